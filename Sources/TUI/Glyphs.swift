/// The block and braille glyphs the panes draw with, as pure functions of values so graphs
/// are tested as text.
public enum Glyphs {
    /// Left-aligned eighth blocks, index = eighths filled (0 = space, 8 = full).
    public static let leftEighths = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]
    /// Bottom-aligned eighth blocks, index = eighths filled.
    public static let lowerEighths = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Dot bits of a braille cell, bottom row first: one array per column (left, right).
    static let brailleDots: [[UInt32]] = [[0x40, 0x04, 0x02, 0x01], [0x80, 0x20, 0x10, 0x08]]

    /// A braille area graph of `values` (0...1, nil = no sample) in `width` x `height` cells,
    /// newest value at the right, two samples per cell; rows top to bottom.
    /// A value fills round(v * height * 4) dots from the bottom (htop's GraphMeterMode rule).
    public static func braille(_ values: [Double?], width: Int, height: Int) -> [String] {
        guard width > 0, height > 0 else { return [] }
        let samples = Array(values.suffix(width * 2))
        // Right-align: pad the front with "no sample".
        let padded = Array(repeating: nil, count: width * 2 - samples.count) + samples
        let dots = padded.map { v -> Int in
            guard let v, v.isFinite else { return 0 }
            return Int((min(1, max(0, v)) * Double(height * 4)).rounded())
        }
        return (0 ..< height).map { row in
            let floor = 4 * (height - 1 - row)
            var line = ""
            for col in 0 ..< width {
                var bits: UInt32 = 0
                for side in 0 ..< 2 {
                    let n = min(4, max(0, dots[col * 2 + side] - floor))
                    for d in 0 ..< n { bits |= brailleDots[side][d] }
                }
                line.unicodeScalars.append(UnicodeScalar(0x2800 + bits)!)
            }
            return line
        }
    }

    /// A one-row bar `width` cells long filled to `fraction`, with eighth-cell resolution.
    public static func bar(_ fraction: Double, width: Int) -> [String] {
        guard width > 0 else { return [] }
        let eighths = Int((min(1, max(0, fraction.isFinite ? fraction : 0)) * Double(width * 8)).rounded())
        return (0 ..< width).map { leftEighths[min(8, max(0, eighths - $0 * 8))] }
    }
}

/// Number formats shared by the panes, kept short because cells are scarce.
public enum Fmt {
    /// Microseconds: "850µs", "12.3ms", "1.20s".
    public static func micros(_ us: Double) -> String {
        let a = abs(us)
        if a < 1000 { return "\(Int(us.rounded()))µs" }
        if a < 1_000_000 { return fixed(us / 1000, a < 10_000 ? 1 : 0) + "ms" }
        return fixed(us / 1_000_000, 2) + "s"
    }

    /// A fraction as a percentage: "73%", or "—" when there is nothing to divide.
    public static func percent(_ f: Double?) -> String {
        guard let f, f.isFinite else { return "—" }
        return "\(Int((f * 100).rounded()))%"
    }

    /// Counts with k/M suffixes past 10,000: "9,999", "12.3k", "4.5M".
    public static func count(_ n: Int64) -> String {
        let a = abs(n)
        if a < 10_000 { return grouped(n) }
        if a < 10_000_000 { return fixed(Double(n) / 1000, a < 100_000 ? 1 : 0) + "k" }
        return fixed(Double(n) / 1_000_000, 1) + "M"
    }

    static func grouped(_ n: Int64) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0, (s.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `x` with `digits` decimals, without Foundation's locale-dependent formatting.
    static func fixed(_ x: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0 ..< digits { scale *= 10 }
        let v = Int64((abs(x) * scale).rounded())
        let whole = v / Int64(scale), frac = v % Int64(scale)
        let sign = x < 0 && v != 0 ? "-" : ""
        guard digits > 0 else { return sign + "\(whole)" }
        let f = String(frac)
        return sign + "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }
}
