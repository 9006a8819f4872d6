/// One forward pass over several sequences of different lengths: the new tokens of every
/// sequence concatenated, where each one's KV goes, and which rows of logits to produce.
///
/// This is SGLang's `ForwardBatch`. A prefill chunk, a decode step and a mix of both are the
/// same thing here: sequence `i` contributes `tokenCount` tokens at positions
/// `kvLength - tokenCount ..< kvLength`.
public struct ForwardBatch: @unchecked Sendable {
    // `slotTable` points into a ReqToTokenPool that outlives every batch built over it.
    public struct Sequence: Sendable, Equatable {
        public var tokenStart: Int
        public var tokenCount: Int
        /// Cached positions once this batch has run (its own tokens included).
        public var kvLength: Int
        /// Where this sequence's row of KV slots starts in `slotTable`.
        public var slotRow: Int
        /// Logits for every token (verification, scoring) instead of only the last.
        public var allLogits: Bool
        /// A draft tree (`appendTree`): token i sits at row position `kvLength - tokenCount + i`
        /// but sees only the prefix before the root and its own ancestors (`treeMasks`).
        public var tree = false
        /// The tokens are the request's own prompt (not tokens it generated, not a decode or a
        /// verification): with bf16 prompts they take bf16 products in whatever batch.
        public var prompt = false
    }

    public private(set) var tokens: [Int32] = []
    public private(set) var positions: [Int32] = []
    /// KV slot each new token is written to.
    public private(set) var outSlots: [Int32] = []
    public private(set) var sequences: [Sequence] = []
    /// Base of the request-to-token table the sequences' `slotRow`s index into.
    public var slotTable: UnsafePointer<Int32>
    public private(set) var logitRowCount = 0
    /// Per token, when a sequence of the batch is a tree: bit i set means the token sees row
    /// position root + i of its sequence (its ancestors and itself); 0 for tokens not in a
    /// tree. Empty when no sequence is a tree.
    public private(set) var treeMasks: [UInt64] = []

    public init(slotTable: UnsafePointer<Int32>) {
        self.slotTable = slotTable
    }

    public var tokenCount: Int { tokens.count }

    /// The rows of prompt tokens as [start, end) pairs, adjacent sequences merged, into
    /// `bounds` (emptied first); returns how many ranges.
    func promptRanges(into bounds: inout [Int64]) -> Int {
        bounds.removeAll(keepingCapacity: true)
        for s in sequences where s.prompt && !s.allLogits && !s.tree {
            let a = Int64(s.tokenStart), b = Int64(s.tokenStart + s.tokenCount)
            if let last = bounds.last, last == a { bounds[bounds.count - 1] = b } else { bounds.append(a); bounds.append(b) }
        }
        return bounds.count / 2
    }

    /// Empties the batch but keeps its storage, so building the next one allocates nothing.
    public mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        outSlots.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        treeMasks.removeAll(keepingCapacity: true)
        logitRowCount = 0
    }

    /// Sets token `i` (drafts the device computes itself).
    public mutating func setToken(_ t: Int32, at i: Int) { tokens[i] = t }

    /// Replaces future placeholders (negative ids, -(row + 1)) with the newest sampled token of
    /// that row. The device thread does this just before it runs the batch.
    public mutating func resolvePlaceholders(_ futureMap: UnsafeBufferPointer<Int32>) {
        for i in tokens.indices where tokens[i] < 0 {
            tokens[i] = futureMap[Int(-tokens[i]) - 1]
        }
    }

    /// Adds a sequence whose slots for positions `0 ..< startPosition + newTokens.count` are
    /// already in its row of the slot table.
    public mutating func append<C: Collection>(tokens newTokens: C, startPosition: Int, slotRow: Int, allLogits: Bool = false,
                                               prompt: Bool = false)
    where C.Element == Int32 {
        let start = tokens.count
        var p = startPosition
        for t in newTokens {
            tokens.append(t)
            positions.append(Int32(p))
            outSlots.append(slotTable[slotRow + p])
            p += 1
        }
        sequences.append(Sequence(tokenStart: start, tokenCount: newTokens.count, kvLength: p, slotRow: slotRow, allLogits: allLogits,
                                  prompt: prompt))
        logitRowCount += allLogits ? newTokens.count : 1
        if !treeMasks.isEmpty { for _ in 0 ..< newTokens.count { treeMasks.append(0) } }
    }

    /// Adds a draft tree over a sequence whose newest token is the root: `tokens[0]` (the root)
    /// at position `rootPosition`, and node i > 0 a child of `parents[i]` (< i), at position
    /// `rootPosition + depth(i)`. Node i's KV goes to row position `rootPosition + i`, whose slot
    /// must be in the slot table; it sees the positions before the root and its ancestors.
    /// Logits come for every node. At most 64 nodes.
    public mutating func appendTree(tokens newTokens: some Collection<Int32>, parents: some Collection<Int>,
                                    rootPosition: Int, slotRow: Int) {
        precondition(newTokens.count == parents.count && newTokens.count <= 64 && !newTokens.isEmpty)
        if treeMasks.isEmpty { for _ in 0 ..< tokens.count { treeMasks.append(0) } }
        let start = tokens.count
        for (i, (t, parent)) in zip(newTokens, parents).enumerated() {
            precondition(i == 0 || (parent >= 0 && parent < i), "a tree node's parent comes before it")
            let depth = i == 0 ? 0 : Int(positions[start + parent]) - rootPosition + 1
            tokens.append(t)
            positions.append(Int32(rootPosition + depth))
            outSlots.append(slotTable[slotRow + rootPosition + i])
            treeMasks.append((i == 0 ? 0 : treeMasks[start + parent]) | (1 << UInt64(i)))
        }
        sequences.append(Sequence(tokenStart: start, tokenCount: newTokens.count, kvLength: rootPosition + newTokens.count,
                                  slotRow: slotRow, allLogits: true, tree: true))
        logitRowCount += newTokens.count
    }
}
