import Engine
import Foundation
import Kernels
import Testing

/// The bf16 panels of `--bf16-prompts` (Kernels/gemm_bf16.c), on CPUs with AVX-512 BF16.
@Suite("bf16 panels")
struct BF16PanelTests {
    static let supported = rs_bf16_panels_supported() != 0
    static let skip = Comment(rawValue: "this CPU has no AVX-512 BF16: the bf16 panels cannot run here")

    /// x rounded to bf16 the way vcvtne2ps2bf16 does: to nearest, ties to even.
    static func bf16(_ x: Float) -> Double {
        let u = x.bitPattern
        return Double(Float(bitPattern: (u &+ 0x7FFF &+ ((u >> 16) & 1)) & 0xFFFF_0000))
    }

    /// Against a double-precision sum of the bf16-rounded operands: what is left is fp32
    /// accumulation, far below bf16's rounding, so a wrong pair, row or token shows.
    @Test("products equal the bf16-rounded operands' exact sums", .enabled(if: supported, skip),
          arguments: [GGMLType.f32, .q4_1, .q8_0, .q5_0, .q4_K, .q6_K])
    func matchesRoundedReference(type: GGMLType) {
        var rng = SeededGenerator(seed: UInt64(type.rawValue) + 77)
        // 70 rows: two whole groups of 32 and a partial one; 29 tokens: two tiles of 12 and 5.
        let rows = 70, cols = type.blockValues == 256 ? 512 : 288, tokens = 29
        let w = MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
        let x: [Float] = (0 ..< tokens * cols).map { _ in rng.nextUnit() * 2 - 1 }
        for accumulate in [Int32(0), 1] {
            let start: [Float] = (0 ..< tokens * rows).map { Float($0 % 7) - 3 }
            var y = start
            let old = rs_set_thread_bf16_panels(1)
            let deq = MatmulTests.multiply(type: type, w, rows: rows, cols: cols, x, tokens: tokens, into: &y,
                                           accumulate: accumulate, acts: Int32(RS_ACTS_INT16))
            rs_set_thread_bf16_panels(old)
            var worst = 0.0, roundingSeen = 0.0
            for t in 0 ..< tokens {
                for r in 0 ..< rows {
                    var exact = 0.0, magnitude = 0.0, fp32 = 0.0
                    for k in 0 ..< cols {
                        let p = Self.bf16(deq[r * cols + k]) * Self.bf16(x[t * cols + k])
                        exact += p
                        magnitude += abs(p)
                        fp32 += Double(deq[r * cols + k]) * Double(x[t * cols + k])
                    }
                    let base = accumulate == 1 ? Double(start[t * rows + r]) : 0
                    worst = max(worst, abs(Double(y[t * rows + r]) - base - exact) / (1e-6 * magnitude + 1e-6))
                    roundingSeen = max(roundingSeen, abs(exact - fp32) / (1e-6 * magnitude + 1e-6))
                }
            }
            #expect(worst <= 1, "\(type) accumulate \(accumulate): \(worst)x the fp32 summation bound from the bf16 reference")
            // The reference itself differs from fp32 by far more: the test can tell the paths apart.
            #expect(roundingSeen > 10, "\(type): bf16 rounding too small to distinguish (\(roundingSeen))")
        }
    }

    /// bf16 prompts are on by default, but only rows the forward pass names as prompt rows take
    /// them: any other product of many tokens stays fp32.
    @Test("on by default, and only for named rows: other products stay fp32")
    func onlyNamedRows() {
        #expect(rs_bf16_prompts() == 1)
        var rng = SeededGenerator(seed: 3)
        let rows = 40, cols = 256, tokens = 40
        let w = MatmulTests.randomMatrix(type: .q8_0, rows: rows, cols: cols, rng: &rng)
        let x: [Float] = (0 ..< tokens * cols).map { _ in rng.nextUnit() * 2 - 1 }
        var y = [Float](repeating: 0, count: tokens * rows)
        let deq = MatmulTests.multiply(type: .q8_0, w, rows: rows, cols: cols, x, tokens: tokens, into: &y, accumulate: 0,
                                       acts: rs_thread_activations())
        var worst = 0.0
        for t in 0 ..< tokens {
            for r in 0 ..< rows {
                var exact = 0.0, magnitude = 0.0
                for k in 0 ..< cols {
                    let p = Double(deq[r * cols + k]) * Double(x[t * cols + k])
                    exact += p
                    magnitude += abs(p)
                }
                worst = max(worst, abs(Double(y[t * rows + r]) - exact) / (1e-6 * magnitude + 1e-6))
            }
        }
        #expect(worst <= 1, "\(worst)x the fp32 bound: the default took bf16 or lost precision")
    }

    /// A prompt's logits are the same alone, beside a decode token in one batch, and in two
    /// chunks: its rows take bf16 panels in any batch and at any count, the decode row the
    /// integer kernels (SmolLM2, int16 activations, bf16 prompts on the test's thread). In two
    /// chunks they are equal to the bit; beside a decode token the LM head multiplies two rows
    /// instead of one: with interleaved weights (AVX-512 VNNI) also to the bit, else the integer
    /// kernels for one row and for several differ in the last bits (1e-5 seen), far below what
    /// fp32 prompts would change (asserted last).
    @Test("a prompt token's numbers do not depend on its batch", .enabled(if: supported, skip))
    func batchInvariantPrompts() throws {
        let old = rs_set_thread_bf16_prompts(1)
        defer { rs_set_thread_bf16_prompts(old) }
        let model = try ModelRegistry.load(gguf: try TestModels.smol.get())
        let prompt = EngineFixtures.fillerPrompt(30, seed: 11), other = EngineFixtures.fillerPrompt(12, seed: 12)
        let cache = KVCache(layers: model.info.layers, kvDim: model.info.kvDim, tokens: 512, pageSize: 16, precision: .float16)
        let slots = ReqToTokenPool(rows: 8, maxContext: 64)
        var pages: [Int32] = []
        func row(_ length: Int) -> Int {
            let r = slots.allocateRow()!, first = pages.count
            _ = cache.allocator.allocate((length + 15) / 16, into: &pages)
            for p in 0 ..< length { slots.row(r)[p] = pages[first + p / 16] * 16 + Int32(p % 16) }
            return r * slots.maxContext
        }
        var batch = ForwardBatch(slotTable: slots.table)
        func last(_ build: (inout ForwardBatch) -> Void) -> [Float] {
            batch.removeAll()
            build(&batch)
            let l = ActivationFormat.int16.with { model.forward(batch, cache: cache) }
            return Array(l.row(l.rows - 1))
        }
        let alone = last { let r = row(30); $0.append(tokens: prompt, startPosition: 0, slotRow: r, prompt: true) }
        // A sequence that has its 12 tokens cached decodes one more beside the whole prompt.
        let d = row(13)
        _ = last { $0.append(tokens: other, startPosition: 0, slotRow: d, prompt: true) }
        let mixed = last {
            let r = row(30)
            $0.append(tokens: CollectionOfOne(Int32(42)), startPosition: 12, slotRow: d)
            $0.append(tokens: prompt, startPosition: 0, slotRow: r, prompt: true)
        }
        let r2 = row(30)
        _ = last { $0.append(tokens: prompt[..<17], startPosition: 0, slotRow: r2, prompt: true) }
        let chunked = last { $0.append(tokens: prompt[17...], startPosition: 17, slotRow: r2, prompt: true) }
        let besides = zip(mixed, alone).map { abs($0 - $1) }.max()!
        if InterleavedWeightTests.smolInterleaved { #expect(mixed == alone, "beside a decode token: max difference \(besides)") }
        else { #expect(besides < 1e-4, "beside a decode token: max difference \(besides)") }
        #expect(chunked == alone, "in two chunks: max difference \(zip(chunked, alone).map { abs($0 - $1) }.max()!)")
        // Without the named rows the same batch computes the prompt in fp32: it would differ.
        batch.removeAll()
        let r3 = row(30)
        batch.append(tokens: prompt, startPosition: 0, slotRow: r3)
        let fp32 = Array(ActivationFormat.int16.with { model.forward(batch, cache: cache) }.row(0))
        let unnamed = zip(fp32, alone).map { abs($0 - $1) }.max()!
        #expect(unnamed > 1e-3, "an unnamed batch computes the prompt in fp32: max difference \(unnamed)")
    }

    /// SmolLM2 with bf16 prompts on the test's thread: the reference prompts keep their greedy
    /// ids; the first step's top-5 logits move by the bf16 rounding, bounded at 0.15 (0.09 seen).
    @Test("SmolLM2: bf16 prompts keep the reference greedy ids", .enabled(if: supported, skip),
          arguments: SmolLM2ForwardTests.references)
    func smolLM2(name: String) throws {
        let ref = try ReferenceOutput.load(name)
        let model = try ModelRegistry.load(gguf: try TestModels.smol.get())
        let runner = SequenceRunner(model: model, kvTokens: 256)
        let old = rs_set_thread_bf16_prompts(1)
        defer { rs_set_thread_bf16_prompts(old) }
        let logits = try runner.extend(ref.prompt_ids)
        let top = Sampler.topK(logits.row(0), 5)
        var moved = 0.0
        for (i, entry) in ref.first_top5.enumerated() {
            #expect(top[i].0 == Int32(entry[0].number!), "rank \(i) id")
            moved = max(moved, abs(Double(top[i].1) - entry[1].number!))
        }
        #expect(moved < 0.15, "top-5 logits moved by \(moved)")
        #expect(try SmolLM2ForwardTests.greedy(runner, from: logits, count: ref.generated_ids.count) == ref.generated_ids)
    }
}
