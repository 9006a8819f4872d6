import Foundation

/// Colours by name, read from btop-format theme files: `theme[key]="#RRGGBB"`. Unknown keys are
/// kept but unused; missing keys fall back to the built-in default theme.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var colors: [String: RGB]

    public static let builtInDefault = Theme(name: "default", colors: [
        "main_bg": RGB(0x16, 0x18, 0x1D), "main_fg": RGB(0xD8, 0xDE, 0xE9), "title": RGB(0xEC, 0xEF, 0xF4),
        "hi_fg": RGB(0x88, 0xC0, 0xD0), "inactive_fg": RGB(0x6B, 0x72, 0x80), "selected_bg": RGB(0x2E, 0x34, 0x40),
        "div_line": RGB(0x3B, 0x42, 0x52), "user_fg": RGB(0xA3, 0xBE, 0x8C), "assistant_fg": RGB(0xD8, 0xDE, 0xE9),
        "thinking_fg": RGB(0x81, 0x8A, 0x9C), "status_fg": RGB(0xEB, 0xCB, 0x8B), "error_fg": RGB(0xBF, 0x61, 0x6A),
    ])

    public init(name: String, colors: [String: RGB]) {
        self.name = name
        self.colors = colors
    }

    /// Parses a theme file's text. Lines that are not `theme[key]="value"` are ignored, as are
    /// values that are not `#RRGGBB` (btop also allows grey levels and empty values).
    public init(name: String, parsing text: String) {
        var colors = Theme.builtInDefault.colors
        for line in text.split(whereSeparator: \.isNewline) {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("theme["), let close = t.firstIndex(of: "]"), let eq = t[close...].firstIndex(of: "=") else { continue }
            let key = String(t[t.index(t.startIndex, offsetBy: 6) ..< close])
            let value = t[t.index(after: eq)...].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
            if let c = RGB(hex: value) { colors[key] = c }
        }
        self.init(name: name, colors: colors)
    }

    public subscript(_ key: String) -> RGB? { colors[key] ?? Theme.builtInDefault.colors[key] }

    /// Theme files found in the user's config folder and the project's `Themes/` folder.
    public static func searchPaths() -> [String] {
        let env = ProcessInfo.processInfo.environment
        let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? "") + "/.config")
        var paths = [config + "/ringside/themes"]
        // The executable lives in .build/<config>/ when run from a checkout.
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0 ..< 4 {
            paths.append(dir.appendingPathComponent("Themes").path)
            dir = dir.deletingLastPathComponent()
        }
        paths.append(FileManager.default.currentDirectoryPath + "/Themes")
        return paths
    }

    /// Loads the theme called `name` from the search paths, or the built-in default.
    public static func load(named name: String) -> Theme {
        for dir in searchPaths() {
            let path = dir + "/" + name + ".theme"
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { return Theme(name: name, parsing: text) }
        }
        return .builtInDefault
    }
}
