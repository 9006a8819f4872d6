import Engine
import Testing

/// A draft tree in one forward pass must give every node the logits of its root-to-node path
/// run as an ordinary sequence: the tree mask hides the other branches and each node's RoPE
/// position is its depth. A plain sequence shares the batch. fp32 activations, as in
/// `BatchedForwardTests`, so that only the attention's order of summation differs.
@Suite("draft tree forward pass")
struct TreeForwardTests {
    @Test func smolTreeNodesMatchTheirPaths() throws {
        try ActivationFormat.fp32.with { try Self.check(TestModels.smol.get(), seed: 3, nodes: 12) }
    }

    static func check(_ file: GGUFFile, seed: UInt64, nodes: Int) throws {
        let model = try ModelRegistry.load(gguf: file)
        var rng = SeededGenerator(seed: seed)
        let prompt = (0 ..< 37).map { _ in Int32(100 + rng.next() % 20000) }
        let other: [Int32] = [504, 3575, 282, 4649, 314, 7042, 30]
        var parents = [-1], tokens = [prompt.last!]
        for i in 1 ..< nodes {
            // Random shape, and siblings that share a token with a cousin (only ancestry counts).
            parents.append(Int(rng.next() % UInt64(i)))
            tokens.append(Int32(200 + rng.next() % 40))
        }
        var paths: [[Int32]] = [[]]
        for i in 1 ..< nodes { paths.append(paths[parents[i]] + [tokens[i]]) }

        var alone: [[Float]] = []
        for path in paths {
            let r = SequenceRunner(model: model, kvTokens: 128)
            r.activations = .fp32
            alone.append(Array(try r.extend(prompt + path).row(0)))
        }
        let otherAlone: [Float] = try {
            let r = SequenceRunner(model: model, kvTokens: 128)
            r.activations = .fp32
            return Array(try r.extend(other).row(0))
        }()

        let cache = KVCache(layers: model.info.layers, kvDim: model.info.kvDim, tokens: 512, pageSize: 16)
        let slots = ReqToTokenPool(rows: 2, maxContext: 128)
        var pages: [Int32] = []
        #expect(cache.allocator.allocate(8, into: &pages))
        // Scattered pages: row 0 takes the odd ones, row 1 the even ones.
        for p in 0 ..< 64 { slots.row(0)[p] = pages[1 + 2 * (p / 16)] * 16 + Int32(p % 16) }
        for p in 0 ..< 64 { slots.row(1)[p] = pages[2 * (p / 16)] * 16 + Int32(p % 16) }
        var batch = ForwardBatch(slotTable: slots.table)
        batch.append(tokens: prompt.dropLast(), startPosition: 0, slotRow: 0)
        batch.append(tokens: other.prefix(3), startPosition: 0, slotRow: slots.maxContext)
        _ = model.forward(batch, cache: cache)
        batch.removeAll()
        batch.append(tokens: other.dropFirst(3), startPosition: 3, slotRow: slots.maxContext)
        batch.appendTree(tokens: tokens, parents: parents, rootPosition: prompt.count - 1, slotRow: 0)
        let logits = model.forward(batch, cache: cache)
        #expect(logits.rows == 1 + nodes)
        let worstOther = zip(logits.row(0), otherAlone).map { abs($0 - $1) }.max()!
        #expect(worstOther < 2e-3, "the plain sequence beside the tree: \(worstOther)")
        for i in 0 ..< nodes {
            let row = logits.row(1 + i)
            let worst = zip(row, alone[i]).map { abs($0 - $1) }.max()!
            #expect(worst < 2e-3, "node \(i) (depth \(paths[i].count)): max logit difference \(worst)")
            #expect(Sampler.argmax(row) == Sampler.argmax(alone[i].withUnsafeMutableBufferPointer { $0 }), "node \(i)")
        }
    }
}
