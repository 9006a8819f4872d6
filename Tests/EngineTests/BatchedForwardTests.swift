import Engine
import Testing

/// A batch of several sequences must compute what each sequence computes alone: attention
/// stays inside a sequence, positions and KV slots are per sequence.
@Suite("batched forward pass")
struct BatchedForwardTests {
    /// Runs `prompts` one at a time, then all together (some mid-prefill, some decoding), and
    /// compares the last-token logits. fp32 activations: alone, short prompts take the
    /// matrix-vector kernels and long batches sgemm, and with int16 activations those two differ
    /// by the activations' rounding (about 5e-3), which is not what this test is about.
    static func check(_ file: GGUFFile, prompts: [[Int32]], tolerance: Float) throws {
        try ActivationFormat.fp32.with { try checkFP32(file, prompts: prompts, tolerance: tolerance) }
    }

    static func checkFP32(_ file: GGUFFile, prompts: [[Int32]], tolerance: Float) throws {
        let model = try ModelRegistry.load(gguf: file)
        var alone: [[Float]] = []
        for p in prompts {
            let r = SequenceRunner(model: model, kvTokens: 128)
            r.activations = .fp32
            let l = try r.extend(p)
            alone.append(Array(l.row(0)))
        }
        // Together: each sequence's prefix is cached first (split at different points), then
        // one batch carries every sequence's remaining tokens.
        let cache = KVCache(layers: model.info.layers, kvDim: model.info.kvDim, tokens: 1024, pageSize: 16)
        let slots = ReqToTokenPool(rows: prompts.count, maxContext: 256)
        var batch = ForwardBatch(slotTable: slots.table)
        var pages: [Int32] = []
        var splits: [Int] = []
        for (i, p) in prompts.enumerated() {
            let row = slots.allocateRow()!
            let first = pages.count
            #expect(cache.allocator.allocate((p.count + 15) / 16, into: &pages))
            for pos in 0 ..< p.count {
                slots.row(row)[pos] = pages[first + pos / 16] * 16 + Int32(pos % 16)
            }
            let split = [p.count - 1, p.count / 2, 1, 0][i % 4]
            splits.append(split)
            if split > 0 {
                batch.removeAll()
                batch.append(tokens: p[0 ..< split], startPosition: 0, slotRow: row * slots.maxContext)
                _ = model.forward(batch, cache: cache)
            }
        }
        batch.removeAll()
        for (i, p) in prompts.enumerated() {
            batch.append(tokens: p[splits[i]...], startPosition: splits[i], slotRow: i * slots.maxContext)
        }
        let together = model.forward(batch, cache: cache)
        #expect(together.rows == prompts.count)
        for i in prompts.indices {
            let row = together.row(i)
            let worst = zip(row, alone[i]).map { abs($0 - $1) }.max()!
            #expect(worst < tolerance, "sequence \(i) (split at \(splits[i])): max logit difference \(worst)")
            #expect(Sampler.argmax(row) == Sampler.argmax(alone[i].withUnsafeMutableBufferPointer { $0 }))
        }
    }

    @Test func smolMixedBatch() throws {
        let prompts: [[Int32]] = [
            [504, 3575, 282, 4649, 314], [14395, 2706, 314, 253, 6256, 1789, 338],
            [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712],
            [33, 34, 35, 36, 37, 1232, 216, 38, 39, 446, 216, 33, 34, 36, 33, 34, 30, 198, 198, 504, 2988],
            [7042, 30],
        ]
        try Self.check(TestModels.smol.get(), prompts: prompts, tolerance: 2e-3)
    }

    @Test func gemmaMixedBatchAcrossTheSlidingWindow() throws {
        // Long enough that sliding-window layers (512) and global layers see different keys.
        var rng = SeededGenerator(seed: 7)
        let long = (0 ..< 600).map { _ in Int32(1000 + rng.next() % 20000) }
        let prompts: [[Int32]] = [[2, 818, 5279, 529, 7001, 563], Array(long.prefix(40)), [2, 20133, 43741]]
        try Self.check(TestModels.gemma.get(), prompts: prompts, tolerance: 2e-3)
        // The window itself: past 512 tokens, local layers must drop the oldest keys, so the
        // result differs from a model that attended to everything (checked via a short prefix
        // that falls out of the window).
        let model = try ModelRegistry.load(gguf: TestModels.gemma.get())
        let r = SequenceRunner(model: model, kvTokens: 1024)
        let full = Array(try r.extend(long).row(0))
        r.reset()
        var changed = long
        changed[0] = 2  // outside the window of local layers, inside global attention
        let other = Array(try r.extend(changed).row(0))
        #expect(full != other, "a token 600 positions back must still reach the global layers")
    }
}
