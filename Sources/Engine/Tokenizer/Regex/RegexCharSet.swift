/// Properties a regex class can test, as bits of one 64-bit word per scalar: the 30 general
/// categories, White_Space, Han, and the ASCII digit and word sets of ECMAScript's `\d` / `\w`.
enum RegexProperty {
    static let whitespace: UInt64 = 1 << 30
    static let han: UInt64 = 1 << 31
    static let asciiDigit: UInt64 = 1 << 32
    static let asciiWord: UInt64 = 1 << 33

    static func category(_ c: Unicode.GeneralCategory) -> UInt64 { 1 << UInt64(index(c)) }

    static func categories(_ cs: [Unicode.GeneralCategory]) -> UInt64 { cs.reduce(0) { $0 | category($1) } }

    static let letter = categories([.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter])
    static let mark = categories([.nonspacingMark, .spacingMark, .enclosingMark])
    static let number = categories([.decimalNumber, .letterNumber, .otherNumber])
    static let punctuation = categories([.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                                         .initialPunctuation, .finalPunctuation, .otherPunctuation])
    static let symbol = categories([.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol])
    static let separator = categories([.spaceSeparator, .lineSeparator, .paragraphSeparator])
    static let other = categories([.control, .format, .surrogate, .privateUse, .unassigned])
    /// Oniguruma's Unicode `\w`.
    static let word = letter | mark | category(.decimalNumber) | category(.connectorPunctuation)

    /// `\p{name}`: one- and two-letter category names, their long forms for the groups, `Han`.
    static func named(_ name: String) -> UInt64? {
        switch name {
        case "L", "Letter": return letter
        case "M", "Mark": return mark
        case "N", "Number": return number
        case "P", "Punctuation": return punctuation
        case "S", "Symbol": return symbol
        case "Z", "Separator": return separator
        case "C", "Other": return other
        case "Han": return han
        case "Lu": return category(.uppercaseLetter)
        case "Ll": return category(.lowercaseLetter)
        case "Lt": return category(.titlecaseLetter)
        case "Lm": return category(.modifierLetter)
        case "Lo": return category(.otherLetter)
        case "Mn": return category(.nonspacingMark)
        case "Mc": return category(.spacingMark)
        case "Me": return category(.enclosingMark)
        case "Nd": return category(.decimalNumber)
        case "Nl": return category(.letterNumber)
        case "No": return category(.otherNumber)
        case "Pc": return category(.connectorPunctuation)
        case "Pd": return category(.dashPunctuation)
        case "Ps": return category(.openPunctuation)
        case "Pe": return category(.closePunctuation)
        case "Pi": return category(.initialPunctuation)
        case "Pf": return category(.finalPunctuation)
        case "Po": return category(.otherPunctuation)
        case "Sm": return category(.mathSymbol)
        case "Sc": return category(.currencySymbol)
        case "Sk": return category(.modifierSymbol)
        case "So": return category(.otherSymbol)
        case "Zs": return category(.spaceSeparator)
        case "Zl": return category(.lineSeparator)
        case "Zp": return category(.paragraphSeparator)
        case "Cc": return category(.control)
        case "Cf": return category(.format)
        case "Cs": return category(.surrogate)
        case "Co": return category(.privateUse)
        case "Cn": return category(.unassigned)
        default: return nil
        }
    }

    private static func index(_ c: Unicode.GeneralCategory) -> Int {
        switch c {
        case .uppercaseLetter: 0
        case .lowercaseLetter: 1
        case .titlecaseLetter: 2
        case .modifierLetter: 3
        case .otherLetter: 4
        case .nonspacingMark: 5
        case .spacingMark: 6
        case .enclosingMark: 7
        case .decimalNumber: 8
        case .letterNumber: 9
        case .otherNumber: 10
        case .connectorPunctuation: 11
        case .dashPunctuation: 12
        case .openPunctuation: 13
        case .closePunctuation: 14
        case .initialPunctuation: 15
        case .finalPunctuation: 16
        case .otherPunctuation: 17
        case .mathSymbol: 18
        case .currencySymbol: 19
        case .modifierSymbol: 20
        case .otherSymbol: 21
        case .spaceSeparator: 22
        case .lineSeparator: 23
        case .paragraphSeparator: 24
        case .control: 25
        case .format: 26
        case .surrogate: 27
        case .privateUse: 28
        case .unassigned: 29
        @unknown default: 29
        }
    }

    /// Bits of every BMP scalar, computed once (property lookups are too slow per character).
    private static let bmp: [UInt64] = (0..<0x10000).map { compute(UInt32($0)) }

    @inline(__always)
    static func of(_ v: UInt32) -> UInt64 {
        v < 0x10000 ? bmp.withUnsafeBufferPointer { $0[Int(v)] } : compute(v)
    }

    private static func compute(_ v: UInt32) -> UInt64 {
        guard let s = Unicode.Scalar(v) else { return category(.surrogate) }
        var bits = category(s.properties.generalCategory)
        if s.properties.isWhitespace { bits |= whitespace }
        if isHan(v) { bits |= han }
        if v >= 0x30 && v <= 0x39 { bits |= asciiDigit | asciiWord }
        if (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F { bits |= asciiWord }
        return bits
    }

    /// The CJK ideograph blocks (llama.cpp's `unicode_cpt_is_han`).
    static func isHan(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2EBEF).contains(v) || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    /// Simple case folding as `(?i)` needs it: lowercase of the uppercase, so that `ſ` and `S`
    /// both fold to `s` and the Kelvin sign to `k`.
    static func fold(_ v: UInt32) -> UInt32 {
        if v < 0x80 { return (v >= 0x41 && v <= 0x5A) ? v | 0x20 : v }
        guard let s = Unicode.Scalar(v) else { return v }
        let upper = s.properties.uppercaseMapping.unicodeScalars
        let base = upper.count == 1 ? upper.first! : s
        let lower = base.properties.lowercaseMapping.unicodeScalars
        return lower.count == 1 ? lower.first!.value : v
    }
}

/// A character class: ranges and property tests, optionally negated and case-insensitive.
/// Membership of the first 256 scalars is precomputed (`finish`), since collapsed llama.cpp
/// text holds nothing else.
struct RegexCharSet: Sendable {
    var ranges: [(UInt32, UInt32)] = []
    var properties: [(mask: UInt64, negated: Bool)] = []
    var negated = false
    var isCaseless = false
    private var latin: [UInt64] = []

    mutating func add(_ lo: UInt32, _ hi: UInt32) { ranges.append((lo, hi)) }
    mutating func addProperty(_ mask: UInt64, negated: Bool) { properties.append((mask, negated)) }

    mutating func merge(_ other: RegexCharSet) {
        ranges += other.ranges
        properties += other.properties
    }

    func caseless(_ on: Bool) -> RegexCharSet {
        var s = self
        s.isCaseless = s.isCaseless || on
        return s
    }

    mutating func finish() {
        latin = [0, 0, 0, 0]
        for v in 0..<256 where slowContains(UInt32(v)) { latin[v >> 6] |= 1 << UInt64(v & 63) }
    }

    @inline(__always)
    func contains(_ v: UInt32) -> Bool {
        if v < 256 { return latin.withUnsafeBufferPointer { $0[Int(v >> 6)] >> UInt64(v & 63) & 1 != 0 } }
        return slowContains(v)
    }

    private func slowContains(_ v: UInt32) -> Bool {
        if !isCaseless { return rawContains(v) != negated }
        let f = RegexProperty.fold(v)
        var hit = rawContains(v) || rawContains(f)
        if !hit, let s = Unicode.Scalar(f) {
            let up = s.properties.uppercaseMapping.unicodeScalars
            if up.count == 1 { hit = rawContains(up.first!.value) }
        }
        return hit != negated
    }

    private func rawContains(_ v: UInt32) -> Bool {
        for (lo, hi) in ranges where v >= lo && v <= hi { return true }
        if properties.isEmpty { return false }
        let bits = RegexProperty.of(v)
        for (mask, neg) in properties where (bits & mask != 0) != neg { return true }
        return false
    }
}
