/// Character classes the pre-tokenizer regexes care about (`\p{L}`, `\p{N}`, `\s`).
enum ScalarClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    /// Unicode White_Space, which is what `\s` means in Oniguruma, PCRE2 and Python `regex`.
    static let whitespace: UInt8 = 4
    /// `\p{M}`: Qwen3.5's letter runs take combining marks too.
    static let mark: UInt8 = 8

    /// Flags for every BMP scalar, computed once: Unicode property lookups are too slow for
    /// the per-character hot path.
    private static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for v in 0..<0x10000 {
            if let scalar = Unicode.Scalar(UInt32(v)) { table[v] = compute(scalar) }
        }
        return table
    }()

    @inline(__always)
    static func of(_ v: UInt32) -> UInt8 {
        if v < 0x10000 { return bmp.withUnsafeBufferPointer { $0[Int(v)] } }
        guard let scalar = Unicode.Scalar(v) else { return 0 }
        return compute(scalar)
    }

    private static func compute(_ scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        var flags: UInt8 = properties.isWhitespace ? whitespace : 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            flags |= number
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags |= mark
        default:
            break
        }
        return flags
    }
}

/// A text fragment decoded to scalars with their classes and UTF-8 offsets, so splitters can
/// look ahead cheaply and hand byte ranges to the BPE stage.
struct CodepointText {
    var scalars: [UInt32] = []
    var flags: [UInt8] = []
    /// UTF-8 offset of each scalar within the fragment, plus the end offset.
    var byteOffsets: [Int32] = []

    var count: Int { scalars.count }

    init() {}

    init(_ text: String) {
        var text = text
        text.withUTF8 { load($0) }
    }

    /// Decodes well-formed UTF-8 (it always comes from a Swift `String`).
    mutating func load(_ utf8: UnsafeBufferPointer<UInt8>) {
        scalars.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        byteOffsets.removeAll(keepingCapacity: true)
        var i = 0
        let n = utf8.count
        while i < n {
            let b0 = UInt32(utf8[i])
            var v: UInt32
            var length: Int
            if b0 < 0x80 {
                v = b0; length = 1
            } else if b0 < 0xE0 {
                v = b0 & 0x1F; length = 2
            } else if b0 < 0xF0 {
                v = b0 & 0x0F; length = 3
            } else {
                v = b0 & 0x07; length = 4
            }
            length = min(length, n - i)
            for k in 1..<max(length, 1) { v = v << 6 | (UInt32(utf8[i + k]) & 0x3F) }
            scalars.append(v)
            flags.append(ScalarClass.of(v))
            byteOffsets.append(Int32(i))
            i += length
        }
        byteOffsets.append(Int32(n))
    }

    func string(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        for i in range { view.append(Unicode.Scalar(scalars[i]) ?? "\u{FFFD}") }
        return String(view)
    }
}
