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
    public let addEOS: Bool
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
    /// GPT-2 byte encoding of the text before merging; false for SentencePiece-style BPE
    /// (Gemma 4), which merges UTF-8 characters and falls back to `<0xXX>` tokens.
    let byteEncode: Bool
    /// Spaces become `▁` before splitting (and back on decoding).
    let escapeWhitespace: Bool
    /// Gemma 4: a run of newlines that is a token is used whole.
    let newlineRunsWhole: Bool
    /// `<0xXX>` token per byte, -1 where missing (character-level BPE only).
    let byteFallback: [Int32]

    /// Builds from GGUF-shaped data. Merges naming tokens missing from the vocabulary are
    /// skipped (they could never produce a token id).
    public convenience init(spec: VocabularySpec) throws(TokenizerError) {
        guard let llama = LlamaPreTokenizer.named(spec.preTokenizer) else {
            throw .unsupportedPreTokenizer("GGUF pre-tokenizer '\(spec.preTokenizer)'")
        }
        let pre = try PreTokenizer.llamaCpp(llama.regexes)
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(spec.merges.count)
        for merge in spec.merges {
            // llama.cpp splits at the first space byte after the first byte. By bytes: a space
            // followed by a combining mark is one Swift Character, and would hide the space.
            let utf8 = Array(merge.utf8)
            guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else { continue }
            pairs.append((String(decoding: utf8[..<space], as: UTF8.self), String(decoding: utf8[(space + 1)...], as: UTF8.self)))
        }
        try self.init(
            spec: spec, mergePairs: pairs, preTokenizer: pre,
            ignoreMerges: spec.ignoreMerges ?? llama.ignoreMerges,
            normalization: .none, byteEncode: llama.byteEncode, escapeWhitespace: llama.escapeWhitespace,
            newlineRunsWhole: spec.preTokenizer == "gemma4", stringMerges: true)
    }

    init(
        spec: VocabularySpec, mergePairs: [(String, String)], preTokenizer: PreTokenizer,
        ignoreMerges: Bool, normalization: Normalization, byteEncode: Bool = true, escapeWhitespace: Bool = false,
        newlineRunsWhole: Bool = false, stringMerges: Bool = false
    ) throws(TokenizerError) {
        let (texts, types) = try spec.validatedTokens()
        let table = TokenTable(texts: texts)
        // llama.cpp merges strings: a merge may build a piece that is no token (Gemma 4 has
        // such steps), and a piece left unmerged at the end falls back to bytes. Such pieces
        // get ids past the vocabulary here (`stringMerges`, GGUF only: Hugging Face refuses
        // merges outside the vocabulary).
        var virtualIDs: [String: Int32] = [:]
        var virtualTexts: [String] = []
        func resolve(_ text: String) -> Int32? {
            if let id = table.find(text) { return id }
            guard stringMerges else { return nil }
            if let id = virtualIDs[text] { return id }
            let id = Int32(texts.count + virtualTexts.count)
            virtualIDs[text] = id
            virtualTexts.append(text)
            return id
        }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            byteTokens[byte] = table.find(ByteLevel.utf8ForByte[byte]) ?? -1
        }
        var ids: [(left: Int32, right: Int32, merged: Int32)] = []
        ids.reserveCapacity(mergePairs.count)
        for (left, right) in mergePairs {
            guard let l = resolve(left), let r = resolve(right), let m = resolve(left + right) else {
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
            case .normal:
                if byteEncode {
                    pieces += ByteLevel.decode(text)
                } else {
                    pieces += escapeWhitespace ? text.replacingOccurrences(of: "\u{2581}", with: " ").utf8 : text.utf8
                }
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
        self.addEOS = spec.addEOS
        self.preTokenizer = preTokenizer
        self.table = table
        self.types = types
        var singleByteTokens = [Int32](repeating: -1, count: 128)
        for b in 0..<128 { singleByteTokens[b] = table.find([UInt8(b)]) ?? -1 }
        self.merger = BPEMerger(merges: MergeTable(pairs: ids), byteTokens: byteTokens, vocabularySize: Int32(texts.count),
                                virtualTexts: virtualTexts.map { Array($0.utf8) },
                                virtualTable: virtualTexts.isEmpty ? nil : TokenTable(texts: virtualTexts),
                                singleByteTokens: singleByteTokens)
        self.specials = SpecialTokenMatcher(texts: texts, types: types)
        self.ignoreMerges = ignoreMerges
        self.normalization = normalization
        self.pieces = pieces
        self.pieceOffsets = pieceOffsets
        self.byteEncode = byteEncode
        self.escapeWhitespace = escapeWhitespace
        self.newlineRunsWhole = newlineRunsWhole
        var fallback = [Int32](repeating: -1, count: 256)
        if !byteEncode {
            let hex = Array("0123456789ABCDEF".utf8)
            for b in 0..<256 {
                fallback[b] = table.find([0x3C, 0x30, 0x78, hex[b >> 4], hex[b & 15], 0x3E]) ?? -1
            }
        }
        self.byteFallback = fallback
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
        var spanScratch = PreTokenizerScratch()
        var bpe = BPEScratch()
        var encoded: [UInt8] = []
    }

    private func encodeText(_ utf8: UnsafeBufferPointer<UInt8>, _ state: inout EncodeState, _ out: inout [Int32]) {
        if escapeWhitespace && utf8.contains(0x20) {
            var escaped: [UInt8] = []
            escaped.reserveCapacity(utf8.count + 16)
            for b in utf8 {
                if b == 0x20 { escaped += [0xE2, 0x96, 0x81] } else { escaped.append(b) }
            }
            escaped.withUnsafeBufferPointer { encodeSplit($0, &state, &out) }
        } else if preTokenizer.addPrefixSpace && utf8.first != 0x20 {
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
            if !byteEncode {
                let whole = (ignoreMerges || (newlineRunsWhole && !bytes.contains(where: { $0 != 0x0A })))
                    ? table.find(bytes.baseAddress!, bytes.count) : -1
                if whole >= 0 {
                    out.append(whole)
                } else {
                    merger.mergeCharacters(bytes, table: table, byteFallback: byteFallback, &state.bpe, &out)
                }
            } else if ignoreMerges, let id = wholeWordToken(bytes, &state.encoded) {
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
