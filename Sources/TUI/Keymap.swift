/// What a key does in the cockpit. The help overlay and the dispatcher both read `Keymap`, so
/// the help can never list a key that does nothing or miss one that does something.
public enum Action: String, Sendable, CaseIterable {
    case help, quit, cancel, redraw
    case toggleChat, toggleTimeline, toggleCache, toggleExperts
    case focusNext, cycleTheme, reloadThemes, pauseTimeline, zoomIn, zoomOut
    case switchModel, expertWindow, toggleThinking
    case scrollUp, scrollDown, followTail
}

/// Where a binding applies. While the chat input has focus, plain letters, digits and `?` are
/// text, so only `.global` bindings (F-keys, Ctrl, Alt, Esc, paging) act there.
public enum KeyScope: Sendable, Equatable {
    case global
    /// Only when the focus is not on the chat input (typing would otherwise trigger it).
    case panes
}

public struct KeyBinding: Sendable, Equatable {
    public var keys: [Key]
    public var scope: KeyScope
    public var action: Action
    public var help: String

    public init(_ keys: [Key], _ action: Action, _ help: String, scope: KeyScope = .global) {
        self.keys = keys
        self.scope = scope
        self.action = action
        self.help = help
    }
}

public struct Keymap: Sendable, Equatable {
    public var bindings: [KeyBinding]

    public init(_ bindings: [KeyBinding]) { self.bindings = bindings }

    /// The action `key` triggers; `typing` is true while the chat input has focus.
    public func action(for key: Key, typing: Bool) -> Action? {
        for b in bindings where b.keys.contains(key) {
            if b.scope == .panes && typing { continue }
            return b.action
        }
        return nil
    }

    /// The keys bound to `action`, as the help shows them ("F6 / Ctrl-O / m").
    public func label(for action: Action) -> String {
        bindings.filter { $0.action == action }.flatMap(\.keys).map(\.label).joined(separator: " / ")
    }

    /// The cockpit's keys. Every F-key action has a Ctrl or Alt alias (F-keys break in screen,
    /// PuTTY and on 60% keyboards), and every pane toggle works while typing via Alt+digit.
    public static let cockpit = Keymap([
        KeyBinding([.function(1), .alt("h")], .help, "show or hide this help"),
        KeyBinding([.char("?")], .help, "show or hide this help", scope: .panes),
        KeyBinding([.function(10), .ctrl("q")], .quit, "quit"),
        KeyBinding([.char("q")], .quit, "quit", scope: .panes),
        KeyBinding([.escape], .cancel, "cancel the answer being generated, close overlays"),
        KeyBinding([.ctrl("l")], .redraw, "redraw the screen"),
        KeyBinding([.alt("1")], .toggleChat, "show or hide the chat pane"),
        KeyBinding([.alt("2")], .toggleTimeline, "show or hide the timeline pane"),
        KeyBinding([.alt("3")], .toggleCache, "show or hide the prefix-cache pane"),
        KeyBinding([.alt("4")], .toggleExperts, "show or hide the experts pane"),
        KeyBinding([.char("1")], .toggleChat, "show or hide the chat pane", scope: .panes),
        KeyBinding([.char("2")], .toggleTimeline, "show or hide the timeline pane", scope: .panes),
        KeyBinding([.char("3")], .toggleCache, "show or hide the prefix-cache pane", scope: .panes),
        KeyBinding([.char("4")], .toggleExperts, "show or hide the experts pane", scope: .panes),
        KeyBinding([.tab], .focusNext, "move the focus to the next pane"),
        KeyBinding([.function(2), .ctrl("t")], .cycleTheme, "next colour theme"),
        KeyBinding([.char("t")], .cycleTheme, "next colour theme", scope: .panes),
        KeyBinding([.ctrl("r")], .reloadThemes, "reload theme files from disk"),
        KeyBinding([.function(5), .ctrl("p")], .pauseTimeline, "pause or resume the timeline"),
        KeyBinding([.char("p"), .char(" ")], .pauseTimeline, "pause or resume the timeline", scope: .panes),
        KeyBinding([.char("+"), .char("=")], .zoomIn, "timeline: show less time, more detail", scope: .panes),
        KeyBinding([.char("-")], .zoomOut, "timeline: show more time", scope: .panes),
        KeyBinding([.function(6), .ctrl("o")], .switchModel, "switch model"),
        KeyBinding([.char("m")], .switchModel, "switch model", scope: .panes),
        KeyBinding([.function(7), .alt("w")], .expertWindow, "experts: next time window"),
        KeyBinding([.char("w")], .expertWindow, "experts: next time window", scope: .panes),
        KeyBinding([.function(4), .alt("r")], .toggleThinking, "fold or unfold the last answer's reasoning"),
        KeyBinding([.pageUp], .scrollUp, "scroll the chat up"),
        KeyBinding([.pageDown], .scrollDown, "scroll the chat down"),
        KeyBinding([.end], .followTail, "follow new text again", scope: .panes),
        KeyBinding([.char("G")], .followTail, "follow new text again", scope: .panes),
    ])
}

extension Key {
    /// How the help overlay writes the key.
    public var label: String {
        switch self {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .enter: "Enter"
        case .backspace: "Backspace"
        case .delete: "Del"
        case .escape: "Esc"
        case .tab: "Tab"
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .home: "Home"
        case .end: "End"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .ctrl(let c): "Ctrl-" + c.uppercased()
        case .alt(let c): "Alt-" + String(c)
        case .function(let n): "F\(n)"
        case .resize: "resize"
        }
    }
}
