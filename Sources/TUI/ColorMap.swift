/// How many colours the terminal can show, and how a theme's 24-bit colours are brought down
/// to that. Pure, so the mapping is tested without a terminal.
public enum ColorDepth: Sendable, Equatable {
    case none, ansi8, ansi16, xterm256, truecolor

    /// From ncurses' COLORS and the environment. NO_COLOR (any non-empty value, per
    /// no-color.org) turns colour off whatever the terminal can do; COLORTERM=truecolor|24bit
    /// is how terminals announce 24-bit support.
    public static func detect(colors: Int, environment env: [String: String]) -> ColorDepth {
        if let v = env["NO_COLOR"], !v.isEmpty { return .none }
        if colors >= 256, let ct = env["COLORTERM"], ct == "truecolor" || ct == "24bit" { return .truecolor }
        if colors >= 256 { return .xterm256 }
        if colors >= 16 { return .ansi16 }
        if colors >= 8 { return .ansi8 }
        return .none
    }
}

public enum ColorMap {
    /// The xterm 256-colour cube's channel levels.
    static let cubeLevels = [0, 95, 135, 175, 215, 255]

    /// xterm's default 16-colour palette (what "color 9" looks like on most terminals).
    public static let ansiPalette: [RGB] = [
        RGB(0x00, 0x00, 0x00), RGB(0xCD, 0x00, 0x00), RGB(0x00, 0xCD, 0x00), RGB(0xCD, 0xCD, 0x00),
        RGB(0x00, 0x00, 0xEE), RGB(0xCD, 0x00, 0xCD), RGB(0x00, 0xCD, 0xCD), RGB(0xE5, 0xE5, 0xE5),
        RGB(0x7F, 0x7F, 0x7F), RGB(0xFF, 0x00, 0x00), RGB(0x00, 0xFF, 0x00), RGB(0xFF, 0xFF, 0x00),
        RGB(0x5C, 0x5C, 0xFF), RGB(0xFF, 0x00, 0xFF), RGB(0x00, 0xFF, 0xFF), RGB(0xFF, 0xFF, 0xFF),
    ]

    /// The palette index for `c` at `depth`; nil for no colour. Truecolor also answers with a
    /// 256-colour index, because ncurses without a direct-colour terminfo cannot do better.
    public static func index(_ c: RGB, depth: ColorDepth) -> Int? {
        switch depth {
        case .none: nil
        case .ansi8: nearest(c, in: ansiPalette.prefix(8))
        case .ansi16: nearest(c, in: ansiPalette[...])
        case .xterm256, .truecolor: xterm256(c)
        }
    }

    /// Nearest entry of the 6x6x6 cube (16...231) or the grey ramp (232...255). Each channel
    /// snaps to the nearest cube level: xterm's levels are uneven (0, 95, 135, …), so btop's
    /// round(v/51) sends 40 to 95 though 0 is closer. The grey ramp wins when it is closer.
    public static func xterm256(_ c: RGB) -> Int {
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        let (r, g, b) = (level(c.r), level(c.g), level(c.b))
        let cube = RGB(UInt8(cubeLevels[r]), UInt8(cubeLevels[g]), UInt8(cubeLevels[b]))
        let avg = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let step = max(0, min(23, (avg - 3) / 10))
        let grey = UInt8(8 + step * 10)
        let greyDist = distance(c, RGB(grey, grey, grey))
        return greyDist < distance(c, cube) ? 232 + step : 16 + 36 * r + 6 * g + b
    }

    /// The RGB a 256-colour index shows on xterm (for tests and previews).
    public static func rgb(xterm256 i: Int) -> RGB {
        switch i {
        case 0 ..< 16: return ansiPalette[i]
        case 16 ..< 232:
            let v = i - 16
            return RGB(UInt8(cubeLevels[v / 36]), UInt8(cubeLevels[v / 6 % 6]), UInt8(cubeLevels[v % 6]))
        default:
            let g = UInt8(8 + (min(i, 255) - 232) * 10)
            return RGB(g, g, g)
        }
    }

    static func nearest(_ c: RGB, in palette: ArraySlice<RGB>) -> Int {
        palette.indices.min { distance(c, palette[$0]) < distance(c, palette[$1]) }!
    }

    /// Squared Euclidean distance in RGB: crude, but it is what xterm's own matching uses and
    /// it keeps the hand-computed test cases checkable.
    static func distance(_ a: RGB, _ b: RGB) -> Int {
        let dr = Int(a.r) - Int(b.r), dg = Int(a.g) - Int(b.g), db = Int(a.b) - Int(b.b)
        return dr * dr + dg * dg + db * db
    }
}
