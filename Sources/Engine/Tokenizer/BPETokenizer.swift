import Foundation

/// GPT-2 style byte-level BPE (GGUF `tokenizer.ggml.model = "gpt2"`, HF `BPE` + `ByteLevel`).
public final class BPETokenizer: Tokenizer {
    /// Unicode normalization applied to text between special tokens (HF `normalizer`).
    public enum Normalization: Sendable {
        case none
        /// Canonical composition (Qwen2-style tokenizer.json).
        case nfc
        /// Compatibility composition.
        case nfkc
    }

    public let vocabularySize: Int
    public let bosID: Int32?
    public let eosID: Int32?
    public let addBOS: Bool
    public var stripsLeadingSpaceOnDecode: Bool { false }
    /// How text between special tokens is cut into words before merging.
    public let preTokenizer: PreTokenizer

    let table: TokenTable
    let types: [TokenType]
    let merger: BPEMerger
    let specials: SpecialTokenMatcher
    let ignoreMerges: Bool
    let normalization: Normalization
    /// Decoded bytes per token, flattened; token `i` is `pieces[pieceOffsets[i]..<pieceOffsets[i+1]]`.
    let pieces: [UInt8]
    let pieceOffsets: [Int32]

    /// Builds from GGUF-shaped data. Merges naming tokens missing from the vocabulary are
    /// skipped (they could never produce a token id).
    public convenience init(spec: VocabularySpec) throws(TokenizerError) {
        let pre = try PreTokenizer.named(spec.preTokenizer)
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(spec.merges.count)
        for merge in spec.merges {
            // llama.cpp splits at the first space after the first character.
            guard let space = merge.dropFirst().firstIndex(of: " ") else { continue }
            pairs.append((String(merge[..<space]), String(merge[merge.index(after: space)...])))
        }
        try self.init(
            spec: spec, mergePairs: pairs, preTokenizer: pre,
            ignoreMerges: spec.ignoreMerges ?? PreTokenizer.ignoresMerges(spec.preTokenizer),
            normalization: .none)
    }

    init(
        spec: VocabularySpec, mergePairs: [(String, String)], preTokenizer: PreTokenizer,
        ignoreMerges: Bool, normalization: Normalization
    ) throws(TokenizerError) {
        let (texts, types) = try spec.validatedTokens()
        let table = TokenTable(texts: texts)
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            byteTokens[byte] = table.find(ByteLevel.utf8ForByte[byte]) ?? -1
        }
        var ids: [(left: Int32, right: Int32, merged: Int32)] = []
        ids.reserveCapacity(mergePairs.count)
        for (left, right) in mergePairs {
            guard let l = table.find(left), let r = table.find(right), let m = table.find(left + right) else {
                // Keep ranks aligned with merge indices even for unusable merges.
                ids.append((-1, -1, -1))
                continue
            }
            ids.append((l, r, m))
        }
        var pieces: [UInt8] = []
        var pieceOffsets: [Int32] = [0]
        pieceOffsets.reserveCapacity(texts.count + 1)
        for (id, text) in texts.enumerated() {
            switch types[id] {
            case .normal: pieces += ByteLevel.decode(text)
            case .control, .unknown, .userDefined: pieces += text.utf8
            case .byte: if let byte = SentencePieceTokenizer.parseByteToken(text) { pieces.append(byte) }
            case .undefined, .unused: break
            }
            pieceOffsets.append(Int32(pieces.count))
        }
        self.vocabularySize = texts.count
        self.bosID = spec.bosID
        self.eosID = spec.eosID
        self.addBOS = spec.addBOS
        self.preTokenizer = preTokenizer
        self.table = table
        self.types = types
        self.merger = BPEMerger(merges: MergeTable(pairs: ids), byteTokens: byteTokens)
        self.specials = SpecialTokenMatcher(texts: texts, types: types)
        self.ignoreMerges = ignoreMerges
        self.normalization = normalization
        self.pieces = pieces
        self.pieceOffsets = pieceOffsets
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        var out: [Int32] = []
        out.reserveCapacity(text.utf8.count / 3)
        text.withUTF8 { utf8 in
            var state = EncodeState()
            for fragment in specials.partition(utf8, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    out.append(id)
                case .text(let range):
                    let slice = UnsafeBufferPointer(rebasing: utf8[range])
                    if normalization == .none {
                        encodeText(slice, &state, &out)
                    } else {
                        var normalized = normalize(String(decoding: slice, as: UTF8.self))
                        normalized.withUTF8 { encodeText($0, &state, &out) }
                    }
                }
            }
        }
        return out
    }

    private struct EncodeState {
        var codepoints = CodepointText()
        var spans: [PreTokenSpan] = []
        var spanScratch: [PreTokenSpan] = []
        var bpe = BPEScratch()
        var encoded: [UInt8] = []
    }

    private func encodeText(_ utf8: UnsafeBufferPointer<UInt8>, _ state: inout EncodeState, _ out: inout [Int32]) {
        if preTokenizer.addPrefixSpace && utf8.first != 0x20 {
            var prefixed = [UInt8(0x20)]
            prefixed += utf8
            prefixed.withUnsafeBufferPointer { encodeSplit($0, &state, &out) }
        } else {
            encodeSplit(utf8, &state, &out)
        }
    }

    private func encodeSplit(_ utf8: UnsafeBufferPointer<UInt8>, _ state: inout EncodeState, _ out: inout [Int32]) {
        state.codepoints.load(utf8)
        preTokenizer.split(state.codepoints, into: &state.spans, scratch: &state.spanScratch)
        for span in state.spans {
            let lo = Int(state.codepoints.byteOffsets[Int(span.lo)])
            let hi = Int(state.codepoints.byteOffsets[Int(span.hi)])
            let bytes = UnsafeBufferPointer(rebasing: utf8[lo..<hi])
            if ignoreMerges, let id = wholeWordToken(bytes, &state.encoded) {
                out.append(id)
            } else {
                merger.merge(bytes, &state.bpe, &out)
            }
        }
    }

    private func wholeWordToken(_ bytes: UnsafeBufferPointer<UInt8>, _ buffer: inout [UInt8]) -> Int32? {
        buffer.removeAll(keepingCapacity: true)
        for byte in bytes { buffer += ByteLevel.utf8ForByte[Int(byte)] }
        return table.find(buffer)
    }

    private func normalize(_ text: String) -> String {
        switch normalization {
        case .none: return text
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        }
    }

    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0 && Int(id) < vocabularySize else { return [] }
        return Array(pieces[Int(pieceOffsets[Int(id)])..<Int(pieceOffsets[Int(id) + 1])])
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
