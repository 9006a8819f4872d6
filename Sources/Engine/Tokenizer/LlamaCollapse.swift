/// llama.cpp runs a pre-tokenizer regex that names a Unicode category through `std::regex`
/// over bytes: every non-ASCII scalar is first replaced by one byte for its category (0xD1
/// number, 0xD2 letter, 0xD3 punctuation, 0xD4 mark, 0xD5 symbol, 0xD0 anything else, 0x0B
/// whitespace) and each `\p{…}` in the pattern by a class of that byte plus the ASCII members
/// (unicode.cpp `unicode_regex_split`). Reproducing both keeps its ids, including where the
/// collapse loses information (`\p{Lu}` matches any non-ASCII letter).
enum LlamaCollapse {
    private static let categories: [(name: String, byte: UInt32, ascii: String)] = [
        (#"\p{N}"#, 0xD1, "0-9"),
        (#"\p{L}"#, 0xD2, "A-Za-z"),
        (#"\p{P}"#, 0xD3, #"!-#%-*,-/:-;?-@\[-\]_\{\}"#),
        (#"\p{M}"#, 0xD4, ""),
        (#"\p{S}"#, 0xD5, #"\$\+<->^`\|\~"#),
        (#"\p{Lu}"#, 0xD2, "A-Za-z"),
        (#"\p{Ll}"#, 0xD2, "A-Za-z"),
        (#"\p{Lt}"#, 0xD2, "A-Za-z"),
        (#"\p{Lm}"#, 0xD2, "A-Za-z"),
        (#"\p{Lo}"#, 0xD2, "A-Za-z"),
    ]

    /// The collapsed form of `pattern`, or nil when it names no category (llama.cpp then runs
    /// it over the scalars themselves).
    static func pattern(_ pattern: String) throws(TokenizerError) -> String? {
        guard categories.contains(where: { pattern.contains($0.name) }) else { return nil }
        guard pattern.unicodeScalars.allSatisfy(\.isASCII) else {
            throw .invalidRegex(pattern: pattern, reason: "unicode categories and non-ASCII characters together (llama.cpp refuses them too)")
        }
        let r = Array(pattern.utf8)
        var out = ""
        var inside = false
        var i = 0
        while i < r.count {
            let c = r[i]
            if c == UInt8(ascii: "[") && (i == 0 || r[i - 1] != UInt8(ascii: "\\")) {
                out += "["
                inside = true
                i += 1
                continue
            }
            if inside && c == UInt8(ascii: "]") && r[i - 1] != UInt8(ascii: "\\") {
                out += "]"
                inside = false
                i += 1
                continue
            }
            if c == UInt8(ascii: "\\") && i + 3 < r.count && r[i + 1] == UInt8(ascii: "p") && r[i + 2] == UInt8(ascii: "{"),
               let close = r[(i + 3)...].firstIndex(of: UInt8(ascii: "}")), close <= i + 10 {
                let name = String(decoding: r[i...close], as: UTF8.self)
                if let cat = categories.first(where: { $0.name == name }) {
                    if !inside { out += "[" }
                    out.unicodeScalars.append(Unicode.Scalar(cat.byte)!)
                    out += cat.ascii
                    if !inside { out += "]" }
                    i = close + 1
                    continue
                }
            }
            out.unicodeScalars.append(Unicode.Scalar(c))
            i += 1
        }
        return out
    }

    /// The byte a scalar collapses to.
    @inline(__always)
    static func collapse(_ v: UInt32) -> UInt32 {
        if v < 128 { return v }
        let bits = RegexProperty.of(v)
        if bits & RegexProperty.whitespace != 0 { return 0x0B }
        if bits & RegexProperty.number != 0 { return 0xD1 }
        if bits & RegexProperty.letter != 0 { return 0xD2 }
        if bits & RegexProperty.punctuation != 0 { return 0xD3 }
        if bits & RegexProperty.mark != 0 { return 0xD4 }
        if bits & RegexProperty.symbol != 0 { return 0xD5 }
        return 0xD0
    }
}

/// Buffers one `PreTokenizer.split` reuses: its span lists, the regex backtracking stack, and
/// the two views of the text llama.cpp's regexes run over.
struct PreTokenizerScratch {
    var spans: [PreTokenSpan] = []
    var stack: [RegexFrame] = []
    var collapsed: [UInt32] = []
    var wide: [UInt32] = []

    mutating func prepare(_ text: CodepointText, for steps: [PreTokenizer.Step]) {
        var needCollapsed = false, needWide = false
        for step in steps {
            if case .llamaRegex(_, let collapsed) = step.rule {
                if collapsed { needCollapsed = true } else { needWide = true }
            }
        }
        if needCollapsed {
            collapsed.removeAll(keepingCapacity: true)
            collapsed.reserveCapacity(text.count)
            for v in text.scalars { collapsed.append(LlamaCollapse.collapse(v)) }
        }
        if needWide {
            wide.removeAll(keepingCapacity: true)
            wide.reserveCapacity(text.count)
            for (v, f) in zip(text.scalars, text.flags) {
                wide.append(v > 0x7F && f & ScalarClass.whitespace != 0 ? 0x0B : v)
            }
        }
    }
}
