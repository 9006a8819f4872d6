/// Colours by name, read from btop-format theme files (`theme[key]="#RRGGBB"`), so btop's own
/// themes load as they are and ours stay readable by btop.
///
/// Lookup order for a key: the theme's own value, then btop's aliases (`meter_bg` and
/// `graph_text` fall back to `inactive_fg`, `process_*` to `cpu_*`), then the built-in default.
/// A key set to `""` means the terminal's default colour (nil), as in btop.
public struct Theme: Sendable, Equatable {
    public var name: String
    public var colors: [String: RGB]
    /// Keys the file set to the empty string: terminal default, never the fallback.
    public var terminalDefault: Set<String>

    public init(name: String, colors: [String: RGB], terminalDefault: Set<String> = []) {
        self.name = name
        self.colors = colors
        self.terminalDefault = terminalDefault
    }

    /// Parses a theme file's text. Unknown keys are kept (harmless, and btop does the same);
    /// malformed values are skipped so one typo does not lose the whole theme.
    public init(name: String, parsing text: String) {
        var colors: [String: RGB] = [:]
        var empty: Set<String> = []
        for (key, value) in Theme.entries(text) {
            if value.isEmpty {
                empty.insert(key)
                colors[key] = nil
            } else if let c = RGB(themeValue: value) {
                colors[key] = c
                empty.remove(key)
            }
        }
        self.init(name: name, colors: colors, terminalDefault: empty)
    }

    /// `(key, value)` for every `theme[key]=value` line, value unquoted and trimmed.
    static func entries(_ text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            guard !line.hasPrefix("#"), line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else { continue }
            let key = line[line.index(line.startIndex, offsetBy: 6) ..< close].trimmingSpaces
            let rest = line[line.index(after: close)...].trimmingSpaces
            guard rest.hasPrefix("="), !key.isEmpty else { continue }
            var value = rest.dropFirst().trimmingSpaces
            for q in ["\"", "'"] where value.hasPrefix(q) {
                value = value.dropFirst()
                value = value.firstIndex(of: Character(q)).map { value[..<$0] } ?? value
            }
            out.append((String(key), String(value.trimmingSpaces)))
        }
        return out
    }

    /// btop's fallbacks between keys, tried before the built-in default.
    static func alias(_ key: String) -> String? {
        switch key {
        case "meter_bg", "graph_text": "inactive_fg"
        case _ where key.hasPrefix("process_"): "cpu_" + key.dropFirst("process_".count)
        default: nil
        }
    }

    public subscript(_ key: String) -> RGB? {
        if let own = Theme.lookup(key, colors, terminalDefault) { return own }
        return Theme.lookup(key, Theme.defaultColors, []) ?? nil
    }

    /// `.some(nil)` for a key set to the terminal default, nil when the key is not set at all.
    static func lookup(_ key: String, _ colors: [String: RGB], _ empty: Set<String>) -> RGB?? {
        if empty.contains(key) { return .some(nil) }
        if let c = colors[key] { return c }
        if let a = alias(key) { return lookup(a, colors, empty) }
        return nil
    }

    /// Colour at `fraction` (0...1) of the `<name>_start/_mid/_end` gradient. Interpolates
    /// start→mid over the first half and mid→end over the second, or start→end when the mid
    /// is empty, like btop's 101-step tables. A theme that sets any stop of a gradient owns the
    /// whole gradient: mixing its start with the default's mid would give colours nobody chose.
    public func gradient(_ name: String, at fraction: Double) -> RGB? {
        let f = fraction.isFinite ? min(1, max(0, fraction)) : 0
        let keys = [name + "_start", name + "_mid", name + "_end"]
        let owns = keys.contains { colors[$0] != nil || terminalDefault.contains($0) }
        let source = owns ? colors : Theme.defaultColors
        guard let s = source[keys[0]] ?? self["main_fg"] else { return nil }
        let mid = source[keys[1]], end = source[keys[2]]
        switch (mid, end) {
        case let (m?, e?): return f <= 0.5 ? s.mixed(with: m, f * 2) : m.mixed(with: e, (f - 0.5) * 2)
        case let (nil, e?): return s.mixed(with: e, f)
        case let (m?, nil): return s.mixed(with: m, f)
        case (nil, nil): return s
        }
    }
}

extension RGB {
    /// A btop theme value: `#RRGGBB`, `#XX` (a grey level) or `R G B` in decimal.
    public init?(themeValue v: String) {
        if v.hasPrefix("#"), v.count == 3, let g = UInt8(v.dropFirst(), radix: 16) {
            self.init(g, g, g)
            return
        }
        if let c = RGB(hex: v), v.hasPrefix("#") {
            self = c
            return
        }
        let parts = v.split(separator: " ").compactMap { UInt8($0) }
        guard parts.count == 3, v.split(separator: " ").count == 3 else { return nil }
        self.init(parts[0], parts[1], parts[2])
    }

    /// Linear blend towards `other` by `t` (0 = self, 1 = other).
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        func lerp(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
        return RGB(lerp(r, other.r), lerp(g, other.g), lerp(b, other.b))
    }

    public var hexString: String {
        "#" + [r, g, b].map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }
}

extension StringProtocol {
    var trimmingSpaces: SubSequence {
        let s = drop(while: { $0 == " " || $0 == "\t" })
        var end = s.endIndex
        while end > s.startIndex, s[s.index(before: end)] == " " || s[s.index(before: end)] == "\t" { end = s.index(before: end) }
        return s[s.startIndex ..< end]
    }
}
