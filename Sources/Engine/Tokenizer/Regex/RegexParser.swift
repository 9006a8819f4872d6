/// The syntax tree of a pre-tokenizer regex.
indirect enum RegexNode {
    case empty
    case literal(UInt32, caseless: Bool)
    case set(RegexCharSet)
    case concat([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool, possessive: Bool)
    case lookahead(RegexNode, negative: Bool)
    case atomic(RegexNode)
    case start
    case end
    case wordBoundary(negated: Bool)

    /// Whether the node can match without consuming input (such a body under an unbounded
    /// loop would need ECMAScript's empty-iteration rule, which we do not implement).
    var nullable: Bool {
        switch self {
        case .empty, .lookahead, .start, .end, .wordBoundary: return true
        case .literal, .set: return false
        case .concat(let parts): return parts.allSatisfy(\.nullable)
        case .alternation(let parts): return parts.contains(where: \.nullable)
        case .repetition(let body, let min, _, _, _): return min == 0 || body.nullable
        case .atomic(let body): return body.nullable
        }
    }
}

/// What `\d`, `\w` and `\b` mean: ASCII (ECMAScript, as llama.cpp's std::regex) or Unicode
/// (Oniguruma, as Hugging Face tokenizers).
enum RegexFlavor: Sendable {
    case ecmascript
    case unicode
}

/// Parses the regex dialect tokenizers use: alternation, groups (`(…)`, `(?:…)`, `(?i:…)`,
/// `(?>…)`), lookahead `(?=…)` / `(?!…)`, greedy, lazy and possessive quantifiers, classes with
/// ranges, `\s \S \d \D \w \W`, `\p{…}` / `\P{…}` (general categories and `Han`), `^ $ \b \B`.
/// No backreferences and no lookbehind: no tokenizer pattern we know uses them.
struct RegexParser {
    private let p: [UInt32]
    private var i = 0
    private let flavor: RegexFlavor
    private let source: String

    static func parse(_ pattern: String, flavor: RegexFlavor) throws(TokenizerError) -> RegexNode {
        var parser = RegexParser(pattern, flavor)
        let node = try parser.alternation(caseless: false)
        guard parser.i == parser.p.count else { throw parser.error("unbalanced ')'") }
        return node
    }

    private init(_ pattern: String, _ flavor: RegexFlavor) {
        p = pattern.unicodeScalars.map(\.value)
        self.flavor = flavor
        source = pattern
    }

    private func error(_ reason: String) -> TokenizerError {
        .invalidRegex(pattern: source, reason: "\(reason) at offset \(i)")
    }

    private var atEnd: Bool { i >= p.count }
    private func peek(_ k: Int = 0) -> UInt32? { i + k < p.count ? p[i + k] : nil }
    private func isChar(_ c: Character, _ k: Int = 0) -> Bool { peek(k) == c.unicodeScalars.first!.value }

    private mutating func alternation(caseless: Bool) throws(TokenizerError) -> RegexNode {
        var branches = [try sequence(caseless: caseless)]
        while isChar("|") {
            i += 1
            branches.append(try sequence(caseless: caseless))
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence(caseless: Bool) throws(TokenizerError) -> RegexNode {
        var items: [RegexNode] = []
        while !atEnd && !isChar("|") && !isChar(")") {
            var atom = try self.atom(caseless: caseless)
            atom = try quantified(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
    }

    private mutating func quantified(_ atom: RegexNode) throws(TokenizerError) -> RegexNode {
        var node = atom
        while let c = peek() {
            var min = 0, max: Int? = nil
            switch c {
            case 0x2A: i += 1                       // *
            case 0x2B: i += 1; min = 1              // +
            case 0x3F: i += 1; max = 1              // ?
            case 0x7B:                              // {n}, {n,}, {n,m}
                guard let (lo, hi, length) = braces() else { return node }
                i += length
                min = lo; max = hi
                if let hi, hi < lo { throw error("quantifier {\(lo),\(hi)} out of order") }
            default: return node
            }
            switch node {
            case .start, .end, .wordBoundary, .lookahead: throw error("nothing to repeat")
            default: break
            }
            var greedy = true, possessive = false
            if isChar("?") { i += 1; greedy = false } else if isChar("+") { i += 1; possessive = true }
            if max == nil && node.nullable { throw error("an unbounded loop over a pattern that can match empty is not supported") }
            guard min <= 100_000, (max ?? 0) <= 100_000 else { throw error("repetition count too large") }
            node = .repetition(node, min: min, max: max, greedy: greedy, possessive: possessive)
        }
        return node
    }

    /// `{n}`, `{n,}` or `{n,m}` at the cursor: (min, max, length), or nil if it is not a quantifier.
    private func braces() -> (Int, Int?, Int)? {
        var k = i + 1
        func number() -> Int? {
            var value = 0, digits = 0
            while k < p.count, p[k] >= 0x30 && p[k] <= 0x39, digits < 7 { value = value * 10 + Int(p[k] - 0x30); k += 1; digits += 1 }
            return digits > 0 ? value : nil
        }
        guard let lo = number() else { return nil }
        var hi: Int? = lo
        if k < p.count && p[k] == 0x2C {
            k += 1
            hi = number()
        }
        guard k < p.count, p[k] == 0x7D else { return nil }
        return (lo, hi, k + 1 - i)
    }

    private mutating func atom(caseless: Bool) throws(TokenizerError) -> RegexNode {
        let c = p[i]
        switch c {
        case 0x28:  // (
            i += 1
            var node: RegexNode
            if isChar("?") {
                guard let kind = peek(1) else { throw error("unterminated group") }
                switch kind {
                case 0x3A: i += 2; node = try alternation(caseless: caseless)                                  // (?:
                case 0x3D: i += 2; node = .lookahead(try alternation(caseless: caseless), negative: false)      // (?=
                case 0x21: i += 2; node = .lookahead(try alternation(caseless: caseless), negative: true)       // (?!
                case 0x3E: i += 2; node = .atomic(try alternation(caseless: caseless))                          // (?>
                case 0x69 where isChar(":", 2): i += 3; node = try alternation(caseless: true)                  // (?i:
                default: throw error("unsupported group syntax")
                }
            } else {
                node = try alternation(caseless: caseless)
            }
            guard isChar(")") else { throw error("missing ')'") }
            i += 1
            return node
        case 0x5B:  // [
            return .set(try charClass(caseless: caseless))
        case 0x2E:  // .
            i += 1
            var set = RegexCharSet()
            set.add(0x0A, 0x0A); set.add(0x0D, 0x0D); set.add(0x2028, 0x2029)
            set.negated = true
            return .set(set)
        case 0x5E: i += 1; return .start
        case 0x24: i += 1; return .end
        case 0x5C:  // backslash
            i += 1
            guard let e = peek() else { throw error("trailing backslash") }
            switch e {
            case 0x62: i += 1; return .wordBoundary(negated: false)
            case 0x42: i += 1; return .wordBoundary(negated: true)
            default: break
            }
            if let set = try escapeSet() { return .set(set.caseless(caseless)) }
            return .literal(try escapeLiteral(), caseless: caseless)
        case 0x29: throw error("unbalanced ')'")
        case 0x2A, 0x2B, 0x3F: throw error("nothing to repeat")
        default:
            i += 1
            return .literal(c, caseless: caseless)
        }
    }

    /// `\s \S \d \D \w \W \p{…} \P{…}` after the backslash, or nil for a literal escape.
    private mutating func escapeSet() throws(TokenizerError) -> RegexCharSet? {
        let e = p[i]
        var set = RegexCharSet()
        switch e {
        case 0x73, 0x53: set.addProperty(RegexProperty.whitespace, negated: e == 0x53)
        case 0x64, 0x44:
            set.addProperty(flavor == .unicode ? RegexProperty.category(.decimalNumber) : RegexProperty.asciiDigit, negated: e == 0x44)
        case 0x77, 0x57:
            set.addProperty(flavor == .unicode ? RegexProperty.word : RegexProperty.asciiWord, negated: e == 0x57)
        case 0x70, 0x50:
            i += 1
            guard isChar("{") else { throw error("expected '{' after \\p") }
            var name = ""
            i += 1
            while let c = peek(), c != 0x7D { name.unicodeScalars.append(Unicode.Scalar(c)!); i += 1 }
            guard isChar("}") else { throw error("unterminated \\p{") }
            guard let mask = RegexProperty.named(name) else { throw error("unknown property \\p{\(name)}") }
            set.addProperty(mask, negated: e == 0x50)
        default:
            return nil
        }
        i += 1
        return set
    }

    private mutating func escapeLiteral() throws(TokenizerError) -> UInt32 {
        let e = p[i]
        i += 1
        switch e {
        case 0x6E: return 0x0A   // n
        case 0x72: return 0x0D   // r
        case 0x74: return 0x09   // t
        case 0x66: return 0x0C   // f
        case 0x76: return 0x0B   // v
        case 0x30: return 0      // 0
        case 0x78:               // xHH or x{H…}
            if isChar("{") {
                i += 1
                return try hex(until: 0x7D)
            }
            return try hex(count: 2)
        case 0x75: return try hex(count: 4)  // uHHHH
        default:
            let isAlnum = (e >= 0x30 && e <= 0x39) || (e >= 0x41 && e <= 0x5A) || (e >= 0x61 && e <= 0x7A)
            if isAlnum { throw error("unsupported escape \\\(Character(Unicode.Scalar(e)!))") }
            return e
        }
    }

    private mutating func hex(count: Int) throws(TokenizerError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<count {
            guard let c = peek(), let d = Self.hexDigit(c) else { throw error("bad hex escape") }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func hex(until close: UInt32) throws(TokenizerError) -> UInt32 {
        var v: UInt32 = 0, n = 0
        while let c = peek(), c != close {
            guard let d = Self.hexDigit(c), n < 6 else { throw error("bad hex escape") }
            v = v << 4 | d
            i += 1; n += 1
        }
        guard n > 0, isChar("}") else { throw error("bad hex escape") }
        i += 1
        return v
    }

    private static func hexDigit(_ c: UInt32) -> UInt32? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    private mutating func charClass(caseless: Bool) throws(TokenizerError) -> RegexCharSet {
        i += 1
        var set = RegexCharSet()
        if isChar("^") { set.negated = true; i += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw error("unterminated character class") }
            if c == 0x5D && !first { i += 1; break }
            first = false
            var lo: UInt32
            if c == 0x5C {
                i += 1
                guard peek() != nil else { throw error("trailing backslash") }
                if let inner = try escapeSet() {
                    set.merge(inner)
                    continue
                }
                if isChar("b") { i += 1; lo = 0x08 } else { lo = try escapeLiteral() }
            } else {
                lo = c
                i += 1
            }
            // A range `a-b`, unless the '-' is the last character of the class.
            if isChar("-"), let next = peek(1), next != 0x5D {
                i += 1
                var hi: UInt32
                if next == 0x5C {
                    i += 1
                    guard peek() != nil else { throw error("trailing backslash") }
                    if isChar("b") { i += 1; hi = 0x08 } else { hi = try escapeLiteral() }
                } else {
                    hi = next
                    i += 1
                }
                guard lo <= hi else { throw error("range out of order") }
                set.add(lo, hi)
            } else {
                set.add(lo, lo)
            }
        }
        return set.caseless(caseless)
    }
}
