/// SentencePiece with scores and byte fallback, exactly as llama.cpp's `llm_tokenizer_spm`
/// (GGUF `tokenizer.ggml.model = "llama"`, e.g. Gemma, Llama 2).
public final class SentencePieceTokenizer: Tokenizer {
    public let vocabularySize: Int
    public let bosID: Int32?
    public let eosID: Int32?
    /// Used for bytes that have neither a `<0xXX>` nor a one-byte token.
    public let unknownID: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    /// Prepend `▁` to text at the start and after each special token.
    public let addSpacePrefix: Bool
    public var stripsLeadingSpaceOnDecode: Bool { addSpacePrefix }

    let table: TokenTable
    let types: [TokenType]
    let scores: [Float]
    let specials: SpecialTokenMatcher
    /// Fallback id per byte: `<0xXX>`, else the raw one-byte token, else unknown, else -1.
    let byteTokens: [Int32]
    let pieces: [UInt8]
    let pieceOffsets: [Int32]

    public init(spec: VocabularySpec) throws(TokenizerError) {
        let (texts, types) = try spec.validatedTokens()
        let table = TokenTable(texts: texts)
        var byteTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            let hex = String(byte, radix: 16, uppercase: true)
            byteTokens[byte] = table.find("<0x" + (byte < 16 ? "0" : "") + hex + ">")
                ?? table.find([UInt8(byte)]) ?? spec.unknownID ?? -1
        }
        var pieces: [UInt8] = []
        var pieceOffsets: [Int32] = [0]
        pieceOffsets.reserveCapacity(texts.count + 1)
        for (id, text) in texts.enumerated() {
            switch types[id] {
            case .normal:
                for byte in text.utf8 { pieces.append(byte) }
                Self.unescapeWhitespace(&pieces, from: Int(pieceOffsets[id]))
            case .byte:
                if let byte = Self.parseByteToken(text) { pieces.append(byte) }
            case .control, .unknown, .userDefined:
                pieces += text.utf8
            case .undefined, .unused:
                break
            }
            pieceOffsets.append(Int32(pieces.count))
        }
        self.vocabularySize = texts.count
        self.bosID = spec.bosID
        self.eosID = spec.eosID
        self.unknownID = spec.unknownID
        self.addBOS = spec.addBOS
        self.addEOS = spec.addEOS
        self.addSpacePrefix = spec.addSpacePrefix
        self.table = table
        self.types = types
        self.scores = spec.scores.isEmpty ? Array(repeating: 0, count: texts.count) : spec.scores
        self.specials = SpecialTokenMatcher(texts: texts, types: types)
        self.byteTokens = byteTokens
        self.pieces = pieces
        self.pieceOffsets = pieceOffsets
    }

    /// `<0xAB>` → 0xAB.
    static func parseByteToken(_ text: String) -> UInt8? {
        guard text.hasPrefix("<0x"), text.hasSuffix(">"), text.utf8.count == 6 else { return nil }
        return UInt8(text.dropFirst(3).dropLast(), radix: 16)
    }

    /// `▁` (E2 96 81) → space, in place from `start`.
    private static func unescapeWhitespace(_ bytes: inout [UInt8], from start: Int) {
        var read = start, write = start
        while read < bytes.count {
            if read + 2 < bytes.count && bytes[read] == 0xE2 && bytes[read + 1] == 0x96 && bytes[read + 2] == 0x81 {
                bytes[write] = 0x20
                read += 3
            } else {
                bytes[write] = bytes[read]
                read += 1
            }
            write += 1
        }
        bytes.removeLast(read - write)
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        var out: [Int32] = []
        text.withUTF8 { utf8 in
            var session = Session()
            var previousWasSpecial = true
            for fragment in specials.partition(utf8, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    out.append(id)
                    previousWasSpecial = true
                case .text(let range):
                    session.escaped.removeAll(keepingCapacity: true)
                    if addSpacePrefix && previousWasSpecial { session.escaped += [0xE2, 0x96, 0x81] }
                    for byte in UnsafeBufferPointer(rebasing: utf8[range]) {
                        if byte == 0x20 { session.escaped += [0xE2, 0x96, 0x81] } else { session.escaped.append(byte) }
                    }
                    tokenize(&session, &out)
                    previousWasSpecial = false
                }
            }
        }
        return out
    }

    /// Scratch for one fragment: symbols are UTF-8 characters, chained as a linked list.
    private struct Session {
        var escaped: [UInt8] = []
        var start: [Int32] = []
        var length: [Int32] = []
        var prev: [Int32] = []
        var next: [Int32] = []
        var heap: [Bigram] = []
    }

    private struct Bigram {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32

        /// Pops first: higher score, then leftmost (llama.cpp `llm_bigram_spm::comparator`).
        @inline(__always)
        func before(_ other: Bigram) -> Bool {
            score > other.score || (score == other.score && left < other.left)
        }
    }

    private func tokenize(_ s: inout Session, _ out: inout [Int32]) {
        let n = s.escaped.count
        guard n > 0 else { return }
        s.start.removeAll(keepingCapacity: true)
        s.length.removeAll(keepingCapacity: true)
        s.prev.removeAll(keepingCapacity: true)
        s.next.removeAll(keepingCapacity: true)
        s.heap.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < n {
            let lead = s.escaped[offset]
            let width = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
            let length = min(width, n - offset)
            s.prev.append(Int32(s.start.count - 1))
            s.start.append(Int32(offset))
            s.length.append(Int32(length))
            offset += length
            s.next.append(offset == n ? -1 : Int32(s.start.count))
        }
        s.escaped.withUnsafeBufferPointer { text in
            let base = text.baseAddress!
            func tryAdd(_ left: Int32, _ right: Int32, _ s: inout Session) {
                guard left >= 0 && right >= 0 else { return }
                let size = s.length[Int(left)] + s.length[Int(right)]
                let id = table.find(base + Int(s.start[Int(left)]), Int(size))
                guard id >= 0 else { return }
                push(&s.heap, Bigram(score: scores[Int(id)], left: left, right: right, size: size))
            }
            for i in 1..<s.start.count { tryAdd(Int32(i - 1), Int32(i), &s) }
            while let bigram = pop(&s.heap) {
                let left = Int(bigram.left), right = Int(bigram.right)
                // Stale: one side was merged away or grew since this pair was queued.
                if s.length[left] == 0 || s.length[right] == 0 || s.length[left] + s.length[right] != bigram.size {
                    continue
                }
                s.length[left] += s.length[right]
                s.length[right] = 0
                s.next[left] = s.next[right]
                if s.next[right] >= 0 { s.prev[Int(s.next[right])] = Int32(left) }
                tryAdd(s.prev[left], Int32(left), &s)
                tryAdd(Int32(left), s.next[left], &s)
            }
            var i: Int32 = 0
            while i >= 0 {
                let start = Int(s.start[Int(i)]), length = Int(s.length[Int(i)])
                let id = table.find(base + start, length)
                if id >= 0 {
                    out.append(id)
                } else {
                    for k in start..<(start + length) where byteTokens[Int(text[k])] >= 0 {
                        out.append(byteTokens[Int(text[k])])
                    }
                }
                i = s.next[Int(i)]
            }
        }
    }

    private func push(_ heap: inout [Bigram], _ item: Bigram) {
        heap.append(item)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if !item.before(heap[parent]) { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = item
    }

    private func pop(_ heap: inout [Bigram]) -> Bigram? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        let top = heap[0]
        let n = heap.count
        var i = 0
        while true {
            var child = 2 * i + 1
            if child >= n { break }
            if child + 1 < n && heap[child + 1].before(heap[child]) { child += 1 }
            if !heap[child].before(last) { break }
            heap[i] = heap[child]
            i = child
        }
        heap[i] = last
        return top
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
