import Foundation

/// WordPiece as llama.cpp's `llm_tokenizer_wpm` runs it (GGUF `tokenizer.ggml.model = "bert"`):
/// BERT's basic normalization (lowercase and accents stripped unless the file says otherwise;
/// control characters dropped; punctuation, ASCII symbols and CJK ideographs split off), then
/// per word the longest vocabulary match from the left. The converter stores word-initial
/// pieces with `▁` and continuation pieces bare (no `##`), hence the phantom `▁` per word.
public final class WordPieceTokenizer: Tokenizer {
    public let vocabularySize: Int
    public let bosID: Int32?
    public let eosID: Int32?
    public let unknownID: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    public var stripsLeadingSpaceOnDecode: Bool { true }

    let table: TokenTable
    let types: [TokenType]
    let specials: SpecialTokenMatcher
    let lowercase: Bool
    let stripAccents: Bool
    let maxTokenBytes: Int
    let pieces: [[UInt8]]

    public init(spec: VocabularySpec) throws(TokenizerError) {
        let (texts, types) = try spec.validatedTokens()
        table = TokenTable(texts: texts)
        self.types = types
        specials = SpecialTokenMatcher(texts: texts, types: types)
        vocabularySize = texts.count
        bosID = spec.bosID
        eosID = spec.eosID
        unknownID = spec.unknownID
        addBOS = spec.addBOS
        addEOS = spec.addEOS
        lowercase = spec.lowercase ?? true
        stripAccents = spec.stripAccents ?? lowercase
        maxTokenBytes = texts.reduce(0) { max($0, $1.utf8.count) }
        pieces = zip(texts, types).map { text, type in
            switch type {
            case .normal: return Array(text.replacingOccurrences(of: "\u{2581}", with: " ").utf8)
            case .control, .unknown, .userDefined: return Array(text.utf8)
            default: return []
            }
        }
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        var out: [Int32] = []
        text.withUTF8 { utf8 in
            for fragment in specials.partition(utf8, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id): out.append(id)
                case .text(let range): encodeWords(String(decoding: UnsafeBufferPointer(rebasing: utf8[range]), as: UTF8.self), &out)
                }
            }
        }
        return out
    }

    /// BERT's basic tokenizer, as llama.cpp's `preprocess`.
    func words(_ text: String) -> [[UInt8]] {
        var words: [[UInt8]] = [[]]
        for scalar in text.unicodeScalars {
            var v = scalar.value
            if stripAccents, let first = String(scalar).decomposedStringWithCanonicalMappingScalar { v = first }
            let bits = RegexProperty.of(v)
            if bits & RegexProperty.whitespace != 0 {
                if !words[words.count - 1].isEmpty { words.append([]) }
                continue
            }
            if v == 0 || v == 0xFFFD || bits & RegexProperty.other != 0 && bits & RegexProperty.category(.unassigned) == 0 { continue }
            if stripAccents && bits & RegexProperty.mark != 0 { continue }
            if lowercase, let s = Unicode.Scalar(v) {
                let lower = s.properties.lowercaseMapping.unicodeScalars
                if lower.count == 1 { v = lower.first!.value }
            }
            let utf8 = Array(String(Unicode.Scalar(v) ?? "\u{FFFD}").utf8)
            if bits & RegexProperty.punctuation != 0 || (v < 0x7F && bits & RegexProperty.symbol != 0) || Self.isChinese(v) {
                if !words[words.count - 1].isEmpty { words.append([]) }
                words[words.count - 1] = utf8
                words.append([])
            } else {
                words[words.count - 1] += utf8
            }
        }
        if words[words.count - 1].isEmpty { words.removeLast() }
        return words
    }

    private func encodeWords(_ text: String, _ out: inout [Int32]) {
        for word in words(text) {
            let w = [0xE2, 0x96, 0x81] + word
            let n = w.count
            let start = out.count
            w.withUnsafeBufferPointer { p in
                var i = 0
                while i < n {
                    var matched = false
                    var j = min(n, i + maxTokenBytes + 1)
                    while j > i {
                        let id = table.find(p.baseAddress! + i, j - i)
                        if id >= 0 {
                            out.append(id)
                            matched = true
                            i = j
                            break
                        }
                        j -= 1
                    }
                    if !matched {
                        out.removeSubrange(start...)
                        break
                    }
                }
            }
            if out.count == start, let unk = unknownID { out.append(unk) }
        }
    }

    static func isChinese(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B920...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }

    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0 && Int(id) < vocabularySize else { return [] }
        return pieces[Int(id)]
    }

    public func tokenType(_ id: Int32) -> TokenType? {
        guard id >= 0 && Int(id) < vocabularySize else { return nil }
        return types[Int(id)]
    }

    public func tokenText(_ id: Int32) -> String? {
        guard id >= 0 && Int(id) < vocabularySize else { return nil }
        return table.text(Int(id))
    }

    public func id(of token: String) -> Int32? { table.find(token) }
}

private extension String {
    /// The first scalar of the canonical decomposition (llama.cpp keeps only that one).
    var decomposedStringWithCanonicalMappingScalar: UInt32? {
        var s = Substring(self).unicodeScalars.first.map { String($0) } ?? self
        s = s.decomposedStringWithCanonicalMapping
        return s.unicodeScalars.first?.value
    }
}
