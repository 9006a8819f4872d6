/// Why a sequence could not be extended.
public enum SequenceError: Error, Equatable, Sendable, CustomStringConvertible {
    case contextFull(needed: Int, limit: Int)
    case kvCacheFull(neededPages: Int, freePages: Int)
    case invalidToken(Int32, vocabSize: Int)

    public var description: String {
        switch self {
        case let .contextFull(needed, limit): "the sequence needs \(needed) positions but the context holds \(limit)"
        case let .kvCacheFull(needed, free): "the KV cache is full (\(needed) pages needed, \(free) free); raise --kv-cache-tokens"
        case let .invalidToken(id, vocab): "token id \(id) is outside the vocabulary (0..<\(vocab))"
        }
    }
}

/// Runs one sequence through a model over its own slice of a paged KV cache: prefill in
/// chunks, then one token per step. The scheduler of the engine core batches many of these;
/// this is the single-stream path behind `ringside generate` and the tests.
public final class SequenceRunner: @unchecked Sendable {
    // Used by one thread at a time.
    public let model: any LanguageModel
    public private(set) var cache: KVCache
    let slots: ReqToTokenPool
    let row: Int
    private var pages: [Int32] = []
    private var batch: ForwardBatch
    public private(set) var length = 0
    /// Longest prefill chunk per forward pass (bounds activation memory).
    public var chunkSize = 512
    /// Activations of the decode products; `.fp32` to match an fp32 reference to 1e-3. The
    /// cache's precision follows (fp32 with fp32, halves otherwise), so it is set before the
    /// first token.
    public var activations = ActivationFormat.standard {
        didSet {
            let precision = model.kvPrecision(for: activations)
            guard precision != cache.precision else { return }
            precondition(length == 0 && pages.isEmpty, "activations change before the first token")
            cache = KVCache(layers: cache.layers, kvDim: cache.kvDim, tokens: cache.slotCount, pageSize: cache.pageSize,
                            precision: precision)
        }
    }

    public init(model: any LanguageModel, kvTokens: Int? = nil, pageSize: Int = 16, activations: ActivationFormat = .standard) {
        self.model = model
        let ctx = min(model.info.contextLength, kvTokens ?? model.info.contextLength)
        cache = KVCache(layers: model.info.layers, kvDim: model.info.kvDim, tokens: max(ctx, 1), pageSize: pageSize,
                        precision: model.kvPrecision(for: activations))
        slots = ReqToTokenPool(rows: 1, maxContext: cache.slotCount)
        row = slots.allocateRow()!
        batch = ForwardBatch(slotTable: slots.table)
        self.activations = activations
    }

    deinit { cache.allocator.release(pages) }

    public var capacity: Int { min(model.info.contextLength, slots.maxContext) }

    /// Forgets the sequence and frees its pages.
    public func reset() {
        cache.allocator.release(pages)
        pages.removeAll(keepingCapacity: true)
        length = 0
    }

    /// Appends `tokens` and returns the logits after the last one (all of them with
    /// `allLogits`). Nothing changes when it throws.
    @discardableResult
    public func extend(_ tokens: [Int32], allLogits: Bool = false) throws(SequenceError) -> Logits {
        precondition(!tokens.isEmpty)
        for t in tokens where t < 0 || Int(t) >= model.info.vocabSize {
            throw .invalidToken(t, vocabSize: model.info.vocabSize)
        }
        let newLength = length + tokens.count
        guard newLength <= capacity else { throw .contextFull(needed: newLength, limit: capacity) }
        let needPages = (newLength + cache.pageSize - 1) / cache.pageSize - pages.count
        if needPages > 0 {
            guard cache.allocator.allocate(needPages, into: &pages) else {
                throw .kvCacheFull(neededPages: needPages, freePages: cache.allocator.freePages)
            }
        }
        let r = slots.row(row)
        for p in length ..< newLength {
            r[p] = pages[p / cache.pageSize] * Int32(cache.pageSize) + Int32(p % cache.pageSize)
        }
        var start = 0
        var logits: Logits!
        while start < tokens.count {
            let end = min(tokens.count, start + chunkSize)
            batch.removeAll()
            // Several tokens at once are a prompt; one is a decode step.
            batch.append(tokens: tokens[start ..< end], startPosition: length + start, slotRow: row * slots.maxContext,
                         allLogits: allLogits, prompt: tokens.count > 1)
            logits = activations.with { model.forward(batch, cache: cache) }
            start = end
        }
        length = newLength
        return logits
    }

    /// Forgets every position from `newLength` on (a verification's rejected drafts); pages
    /// wholly past it go back to the pool.
    public func truncate(to newLength: Int) {
        precondition(newLength >= 0 && newLength <= length)
        length = newLength
        let keep = (newLength + cache.pageSize - 1) / cache.pageSize
        if pages.count > keep {
            cache.allocator.release(pages[keep...])
            pages.removeSubrange(keep...)
        }
    }
}
