import Foundation
import Testing
@testable import TUI

@Suite("themes")
struct ThemeTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let themesDir = here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Themes").path

    @Test func btopsOwnFormatParses() throws {
        let text = try String(contentsOf: Self.here.appendingPathComponent("Fixtures/btop-style.theme"), encoding: .utf8)
        let t = Theme(name: "btop-style", parsing: text)
        #expect(t["main_bg"] == RGB(0x1E, 0x1E, 0x2E))
        #expect(t["hi_fg"] == RGB(0x89, 0xB4, 0xFA))
        #expect(t["cpu_box"] == RGB(0xCB, 0xA6, 0xF7) && t["proc_box"] == RGB(0x89, 0xB4, 0xFA))
        #expect(t["div_line"] == RGB(0x6C, 0x70, 0x86))
        #expect(t["temp_start"] == RGB(0xA6, 0xE3, 0xA1) && t["temp_mid"] == RGB(0xF9, 0xE2, 0xAF) && t["temp_end"] == RGB(0xF3, 0x8B, 0xA8))
        // Grey levels, decimal triples and bare values.
        #expect(t["cached_start"] == RGB(0x40, 0x40, 0x40) && t["cached_mid"] == RGB(128, 128, 128) && t["cached_end"] == RGB(255, 255, 255))
        #expect(t["used_end"] == RGB(0x89, 0xDC, 0xEB))
        // btop's aliases: process_* falls back to cpu_*.
        #expect(t["process_start"] == RGB(0x94, 0xE2, 0xD5) && t["cpu_start"] == RGB(0x94, 0xE2, 0xD5))
        // Unknown keys are kept but harmless; malformed values are skipped (default used).
        #expect(t["proc_pause_bg"] == nil)
        // Our pane keys missing from a btop theme fall back to the default theme.
        // (Both sides must exist: nil == nil would pass without testing anything.)
        #expect(t["batch_decode"] != nil && t["batch_decode"] == Theme.builtInDefault["batch_decode"])
        #expect(t.gradient("expert", at: 1) != nil && t.gradient("expert", at: 1) == Theme.builtInDefault.gradient("expert", at: 1))
    }

    @Test func valueForms() {
        #expect(RGB(themeValue: "#cc") == RGB(0xCC, 0xCC, 0xCC))
        #expect(RGB(themeValue: "#FF8800") == RGB(0xFF, 0x88, 0))
        #expect(RGB(themeValue: "10 20 30") == RGB(10, 20, 30))
        #expect(RGB(themeValue: "10 20 300") == nil)
        #expect(RGB(themeValue: "FF8800") == nil)  // btop requires the '#'
        #expect(RGB(themeValue: "#12345") == nil)
    }

    @Test func emptyMeansTerminalDefaultAndMissingFallsBack() {
        let t = Theme(name: "x", parsing: """
        # comment
        theme[main_bg]=""
        theme[ title ] = "#FF8800"
        theme[meter_bg]
        not a theme line
        theme[inactive_fg]="#101010"
        """)
        #expect(t["main_bg"] == nil)  // transparent background
        #expect(t["title"] == RGB(0xFF, 0x88, 0))
        #expect(t["meter_bg"] == RGB(0x10, 0x10, 0x10))  // btop: meter_bg falls back to inactive_fg
        #expect(t["graph_text"] == RGB(0x10, 0x10, 0x10))
        #expect(t["main_fg"] != nil && t["main_fg"] == Theme.builtInDefault["main_fg"])
    }

    @Test func gradientsInterpolateThroughTheMid() {
        let t = Theme(name: "g", parsing: """
        theme[heat_start]="#000000"
        theme[heat_mid]="#808080"
        theme[heat_end]="#FFFFFF"
        theme[two_start]="#000000"
        theme[two_mid]=""
        theme[two_end]="#C8C8C8"
        """)
        #expect(t.gradient("heat", at: 0) == RGB(0, 0, 0))
        #expect(t.gradient("heat", at: 0.25) == RGB(64, 64, 64))
        #expect(t.gradient("heat", at: 0.5) == RGB(128, 128, 128))
        #expect(t.gradient("heat", at: 1) == RGB(255, 255, 255))
        #expect(t.gradient("heat", at: 7) == RGB(255, 255, 255))  // clamped
        #expect(t.gradient("two", at: 0.5) == RGB(100, 100, 100))  // empty mid: start to end
    }

    @Test func shippedThemesParseAndCoverEveryPaneKey() throws {
        let catalog = ThemeCatalog(directories: [Self.themesDir])
        let names = catalog.names()
        #expect(names.first == "default")
        #expect(Set(["default", "light", "tty16", "monochrome"]).isSubset(of: Set(names)))
        for name in names {
            let text = try String(contentsOfFile: Self.themesDir + "/\(name).theme", encoding: .utf8)
            let keys = Set(Theme.entries(text).map(\.0))
            #expect(keys == Set(Theme.paneKeys), "\(name) is missing \(Set(Theme.paneKeys).subtracting(keys).sorted())")
            for (key, value) in Theme.entries(text) {
                #expect(value.isEmpty || RGB(themeValue: value) != nil, "\(name): bad value for \(key)")
            }
        }
        // The file and the compiled-in fallback agree.
        #expect(catalog.load("default").colors == Theme.builtInDefault.colors)
        // tty16 uses only the 16 xterm palette colours, so a 16-colour terminal shows it exactly.
        let tty = catalog.load("tty16")
        for c in tty.colors.values { #expect(ColorMap.ansiPalette.contains(c), "\(c.hexString) is not in the 16-colour palette") }
        // Monochrome is greys only.
        for c in catalog.load("monochrome").colors.values { #expect(c.r == c.g && c.g == c.b) }
    }

    @Test func userThemesComeFirstAndCycle() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-themes-\(UUID().uuidString)")
        let user = tmp.appendingPathComponent("ringside/themes")
        try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        try "theme[main_fg]=\"#010203\"\n".write(to: user.appendingPathComponent("light.theme"), atomically: true, encoding: .utf8)
        try "theme[main_fg]=\"#040506\"\n".write(to: user.appendingPathComponent("zz-mine.theme"), atomically: true, encoding: .utf8)
        #expect(ThemeCatalog.userDirectory(environment: ["XDG_CONFIG_HOME": tmp.path]) == user.path)
        #expect(ThemeCatalog.userDirectory(environment: ["XDG_CONFIG_HOME": "", "HOME": "/home/u"]) == "/home/u/.config/ringside/themes")
        let std = ThemeCatalog.standard(environment: ["XDG_CONFIG_HOME": tmp.path], executable: "/nonexistent/bin/ringside",
                                        currentDirectory: Self.themesDir + "/..")
        #expect(std.directories.first == user.path)
        #expect(std.load("light")["main_fg"] == RGB(1, 2, 3))  // the user's file wins
        let names = std.names()
        #expect(names == ["default", "light", "monochrome", "tty16", "zz-mine"])
        var t = std.load("default")
        var seen: [String] = []
        for _ in names { t = std.next(after: t.name); seen.append(t.name) }
        #expect(seen == ["light", "monochrome", "tty16", "zz-mine", "default"])
        #expect(std.load("no-such-theme")["main_fg"] == RGB(0xD8, 0xDE, 0xE9), "the default theme's main_fg")
    }
}
