import Testing
@testable import TUI

@Suite("keymap and help")
struct KeymapTests {
    let keymap = Keymap.cockpit

    @Test func everyFKeyActionHasACtrlOrAltAlias() {
        for b in keymap.bindings where b.keys.contains(where: { if case .function = $0 { true } else { false } }) {
            let aliases = keymap.bindings.filter { $0.action == b.action && $0.scope == .global }.flatMap(\.keys).filter {
                switch $0 {
                case .ctrl, .alt: true
                default: false
                }
            }
            #expect(!aliases.isEmpty, "\(b.action) has an F-key but no Ctrl/Alt alias")
        }
    }

    @Test func noKeyIsBoundTwiceInTheSameScope() {
        var seen: [String: Action] = [:]
        for b in keymap.bindings {
            for k in b.keys {
                let id = "\(b.scope) \(k.label)"
                #expect(seen[id] == nil || seen[id] == b.action, "\(id) bound to \(seen[id]!) and \(b.action)")
                seen[id] = b.action
            }
        }
    }

    @Test func dispatchRespectsTyping() {
        #expect(keymap.action(for: .function(1), typing: true) == .help)
        #expect(keymap.action(for: .char("?"), typing: false) == .help)
        #expect(keymap.action(for: .char("?"), typing: true) == nil)  // it is text in the chat input
        #expect(keymap.action(for: .char("2"), typing: false) == .toggleTimeline)
        #expect(keymap.action(for: .alt("2"), typing: true) == .toggleTimeline)
        #expect(keymap.action(for: .ctrl("t"), typing: true) == .cycleTheme)
        #expect(keymap.action(for: .char("x"), typing: false) == nil)
        // Every pane has a number key and an Alt+number alias.
        for pane in PaneID.allCases {
            #expect(keymap.action(for: .char(Character("\(pane.rawValue)")), typing: false) == Layout.toggleAction(pane))
            #expect(keymap.action(for: .alt(Character("\(pane.rawValue)")), typing: true) == Layout.toggleAction(pane))
        }
    }

    @Test func helpOverlayListsEveryBinding() {
        // Tall enough to show everything at once.
        var buf = ScreenBuffer(width: 100, height: 50)
        HelpOverlay.render(into: &buf, keymap: keymap, theme: .builtInDefault)
        let screen = buf.lines.joined(separator: "\n")
        for b in keymap.bindings {
            #expect(screen.contains(b.help), "help misses \(b.help)")
            for k in b.keys {
                let line = buf.lines.first { $0.contains(b.help) } ?? ""
                #expect(line.contains(k.label), "help line for \(b.action) misses \(k.label)")
            }
        }
        #expect(Set(HelpOverlay.lines(keymap).map(\.help)) == Set(keymap.bindings.map(\.help)))
    }

    @Test func helpOverlayScrollsWhenShort() {
        let all = HelpOverlay.lines(keymap)
        var shownHelp = Set<String>()
        var clamped = 0
        for scroll in 0 ..< all.count + 5 {
            var buf = ScreenBuffer(width: 80, height: 12)
            clamped = HelpOverlay.render(into: &buf, keymap: keymap, theme: .builtInDefault, scroll: scroll)
            for l in all where buf.lines.contains(where: { $0.contains(l.help) }) { shownHelp.insert(l.help) }
        }
        #expect(clamped < all.count)  // scrolling past the end stops at the last page
        #expect(shownHelp == Set(all.map(\.help)))
    }

    @Test func keyLabels() {
        #expect(Key.ctrl("q").label == "Ctrl-Q")
        #expect(Key.alt("1").label == "Alt-1")
        #expect(Key.function(10).label == "F10")
        #expect(Key.char(" ").label == "Space")
        #expect(keymap.label(for: .switchModel) == "F6 / Ctrl-O / m")
    }
}
