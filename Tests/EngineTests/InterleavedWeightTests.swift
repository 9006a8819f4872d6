@testable import Engine
import Foundation
import Kernels
import Testing

/// Q4_0, Q4_1, Q5_0, Q8_0, Q4_K and Q6_K weights interleaved 16 rows at a time (`rs_repack_x16`, x16.c): the layout holds
/// the stored bytes, the kernels compute W . (d q) on every path with the scalar definition's
/// bits, a token's result does not depend on how many tokens share its step, and the paths that
/// read rows (fp32 activations, prompt panels, embedding lookups) see the stored rows.
@Suite("interleaved weights")
struct InterleavedWeightTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q6_K]

    struct Weights {
        let type: GGMLType
        let rows: Int, cols: Int
        let stored: [UInt8]
        let packed: [UInt8]

        init(type: GGMLType, rows: Int, cols: Int, seed: UInt64) {
            var rng = SeededGenerator(seed: seed)
            self.type = type
            self.rows = rows
            self.cols = cols
            stored = MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
            var p = [UInt8](repeating: 0, count: stored.count)
            stored.withUnsafeBytes { s in p.withUnsafeMutableBytes { rs_repack_x16(Int32(type.rawValue), s.baseAddress, Int64(rows), Int64(cols), $0.baseAddress) } }
            packed = p
        }

        /// y = x W^T through `rs_matmul_ex` with `acts`, from the interleaved or the stored bytes.
        func product(_ x: [Float], tokens: Int, acts: Int32, interleaved: Bool, isa: ForcedISA? = nil) -> [Float] {
            var y = [Float](repeating: 0, count: tokens * rows)
            (interleaved ? packed : stored).withUnsafeBytes { wb in
                x.withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        var job = rs_matmul_job(type: Int32(type.rawValue) | (interleaved ? RS_TYPE_X16 : 0), w: wb.baseAddress,
                                                row_bytes: Int64(type.byteCount(values: cols)!), rows: Int64(rows),
                                                y: yb.baseAddress, ldy: Int64(rows), accumulate: 0)
                        let run = { rs_matmul_ex(&job, 1, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), acts) }
                        if let isa { isa.run(run) } else { run() }
                    }
                }
            }
            return y
        }

        /// The integer kernels of `isa` directly, int16 or int8 activations.
        func kernel(_ x: [Float], tokens: Int, isa: Int32, levels: Int32 = 32767) -> [Float] {
            var y = [Float](repeating: 0, count: tokens * rows)
            packed.withUnsafeBytes { wb in
                x.withUnsafeBufferPointer { xb in
                    y.withUnsafeMutableBufferPointer { yb in
                        var job = rs_matmul_job(type: Int32(type.rawValue) | RS_TYPE_X16, w: wb.baseAddress,
                                                row_bytes: Int64(type.byteCount(values: cols)!), rows: Int64(rows),
                                                y: yb.baseAddress, ldy: Int64(rows), accumulate: 0)
                        #expect(rs_gemv_int_path(&job, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), isa, levels) == 0)
                    }
                }
            }
            return y
        }
    }

    static func activations(tokens: Int, cols: Int, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0 ..< tokens * cols).map { i in (rng.nextUnit() * 2 - 1) * Float(1 << ((i / 32) % 5)) * 0.3 }
    }

    @Test("every interleaved row dequantizes to the stored row's values", arguments: types)
    func rowsRoundTrip(type: GGMLType) {
        let w = Weights(type: type, rows: 48, cols: type.blockValues == 256 ? 512 : 224, seed: 7)
        var a = [Float](repeating: 0, count: w.cols), b = a
        for r in 0 ..< w.rows {
            w.stored.withUnsafeBytes { rs_dequantize_row_at(Int32(type.rawValue), $0.baseAddress, Int64(type.byteCount(values: w.cols)!), Int64(r), &a, Int64(w.cols)) }
            w.packed.withUnsafeBytes { rs_dequantize_row_at(Int32(type.rawValue) | RS_TYPE_X16, $0.baseAddress, Int64(type.byteCount(values: w.cols)!), Int64(r), &b, Int64(w.cols)) }
            #expect(a == b, "\(type) row \(r)")
        }
        let changed = w.packed != w.stored, sameBytes = w.packed.sorted() == w.stored.sorted()
        #expect(changed, "the layout changed")
        // Q5_0's high bits are rearranged within a row's word; the other types' bytes only move.
        #expect(sameBytes == (type != .q5_0), "the same bytes, moved")
    }

    /// Against double precision, within the bound of the activations' rounding (the integer
    /// decode tests' check), on each path and with tiles of 8 tokens and remainders.
    @Test("interleaved kernels: scalar", arguments: types, [1, 2, 5, 8, 9, 16])
    func scalar(type: GGMLType, tokens: Int) {
        for levels in [Int32(32767), 127] {
            IntegerDecodeTests.check(type: type, isa: Int32(RS_ISA_SCALAR), levels: levels, tokens: tokens, rows: 48, interleaved: true)
        }
    }

    @Test("interleaved kernels: AVX2", ForcedISA.avx2.trait, arguments: types, [1, 2, 5, 8, 9, 16])
    func avx2(type: GGMLType, tokens: Int) {
        for levels in [Int32(32767), 127] {
            IntegerDecodeTests.check(type: type, isa: Int32(RS_ISA_AVX2), levels: levels, tokens: tokens, rows: 48, interleaved: true)
        }
    }

    @Test("interleaved kernels: AVX-512 VNNI", ForcedISA.avx512.trait, arguments: types, [1, 2, 5, 8, 9, 16])
    func avx512(type: GGMLType, tokens: Int) {
        for levels in [Int32(32767), 127] {
            IntegerDecodeTests.check(type: type, isa: Int32(RS_ISA_AVX512), levels: levels, tokens: tokens, rows: 48, interleaved: true)
        }
    }

    /// 608 rows (38 groups, no multiple of a chunk) on the pool, each path forced.
    @Test("rs_matmul over interleaved weights, each path", arguments: types, ForcedISA.allCases.filter(\.runsHere))
    func forced(type: GGMLType, isa: ForcedISA) {
        for tokens in [1, 5, 16] {
            IntegerDecodeTests.check(type: type, isa: isa.rawValue, levels: 32767, tokens: tokens, rows: 608, forced: isa, interleaved: true)
        }
    }

    /// The vector kernels do the definition's integer sums and float operations in its order.
    @Test("AVX2 and AVX-512 VNNI give the scalar definition's bits", ForcedISA.avx2.trait, arguments: types)
    func sameBits(type: GGMLType) {
        let w = Weights(type: type, rows: 32, cols: type.blockValues == 256 ? 1024 : 800, seed: 11)
        for tokens in [1, 3, 8, 11] {
            let x = Self.activations(tokens: tokens, cols: w.cols, seed: UInt64(tokens))
            let scalar = w.kernel(x, tokens: tokens, isa: Int32(RS_ISA_SCALAR))
            #expect(w.kernel(x, tokens: tokens, isa: Int32(RS_ISA_AVX2)) == scalar, "\(type) AVX2, \(tokens) tokens")
            if ForcedISA.avx512.runsHere {
                #expect(w.kernel(x, tokens: tokens, isa: Int32(RS_ISA_AVX512)) == scalar, "\(type) AVX-512, \(tokens) tokens")
            }
        }
    }

    /// What makes a speculative verification compute its tokens as plain decoding does: a token
    /// alone and the same token among 2-16 others get the same bits.
    @Test("a token's result does not depend on its batch", arguments: types)
    func batchInvariant(type: GGMLType) {
        let w = Weights(type: type, rows: 64, cols: type.blockValues == 256 ? 768 : 576, seed: 3)
        let x = Self.activations(tokens: 16, cols: w.cols, seed: 99)
        let alone = (0 ..< 16).map { t in w.product(Array(x[t * w.cols ..< (t + 1) * w.cols]), tokens: 1, acts: Int32(RS_ACTS_INT16), interleaved: true) }
        for n in [2, 5, 9, 16] {
            let y = w.product(Array(x[0 ..< n * w.cols]), tokens: n, acts: Int32(RS_ACTS_INT16), interleaved: true)
            for t in 0 ..< n { #expect(Array(y[t * w.rows ..< (t + 1) * w.rows]) == alone[t], "\(type) token \(t) of \(n)") }
        }
    }

    /// Steps of up to 128 tokens that are not prompt rows (a batch of verifications) stay on the
    /// interleaved kernels, which beat dequantized panels + sgemm there; the stored layout's
    /// kernels stop at 16.
    @Test("rs_matmul keeps up to 128 tokens on the interleaved kernels")
    func wideSteps() {
        let w = Weights(type: .q4_1, rows: 48, cols: 256, seed: 9)
        let native = Int32(rs_cpu_plan_native().pointee.isa)
        #expect(rs_matmul_x16_gemv_max_tokens() == 128 && rs_matmul_int_gemv_max_tokens() == 16)
        for tokens in [40, 128] {
            let x = Self.activations(tokens: tokens, cols: w.cols, seed: UInt64(tokens))
            #expect(w.product(x, tokens: tokens, acts: Int32(RS_ACTS_INT16), interleaved: true) == w.kernel(x, tokens: tokens, isa: native),
                    "\(tokens) tokens")
        }
    }

    /// fp32 activations (the reference path) and prompt-sized products (panels) dequantize rows:
    /// interleaved weights give exactly the stored weights' results.
    @Test("fp32 activations and panels read the stored rows", arguments: types)
    func otherPaths(type: GGMLType) {
        let w = Weights(type: type, rows: 96, cols: 256, seed: 5)
        for tokens in [1, 3, 40] {
            let x = Self.activations(tokens: tokens, cols: w.cols, seed: 17)
            #expect(w.product(x, tokens: tokens, acts: Int32(RS_ACTS_FP32), interleaved: true)
                == w.product(x, tokens: tokens, acts: Int32(RS_ACTS_FP32), interleaved: false), "\(type) fp32, \(tokens) tokens")
        }
        // 200 tokens: past both layouts' matrix-vector limits, so both take panels.
        let x = Self.activations(tokens: 200, cols: w.cols, seed: 18)
        let was = rs_set_thread_bf16_panels(1)
        defer { rs_set_thread_bf16_panels(was) }
        #expect(w.product(x, tokens: 200, acts: Int32(RS_ACTS_INT16), interleaved: true)
            == w.product(x, tokens: 200, acts: Int32(RS_ACTS_INT16), interleaved: false), "\(type) panels, 200 tokens")
    }

    @Test("which matrices a load interleaves")
    func whichMatrices() {
        let w = Weights(type: .q4_1, rows: 32, cols: 64, seed: 1)
        var kept: [FloatBuffer] = []
        w.stored.withUnsafeBytes { sb in
            let m = WeightMatrix(type: .q4_1, data: sb.baseAddress!, rows: 32, cols: 64)
            #expect(KernelPath.interleaveWeights, "on by default")
            let copy = m.interleavedCopy(enabled: true) { kept.append($0) }
            let vnni = rs_cpu_features_current().pointee.avx512vnni != 0 && rs_isa() >= RS_ISA_AVX512
            #expect((copy != nil) == vnni, "interleaved exactly where AVX-512 VNNI runs the kernels")
            if let copy {
                #expect(copy.interleaved && copy.type == .q4_1 && kept.count == 1)
                var a = [Float](repeating: 0, count: 64), b = a
                for r in 0 ..< 32 {
                    m.dequantizeRow(r, into: &a)
                    copy.dequantizeRow(r, into: &b)
                    #expect(a == b, "row \(r): an embedding lookup reads the interleaved rows")
                }
                #expect(copy.interleavedCopy { kept.append($0) } == nil, "never twice")
            }
            #expect(WeightMatrix(type: .q4_1, data: sb.baseAddress!, rows: 24, cols: 64).interleavedCopy { kept.append($0) } == nil, "24 rows: not whole groups")
            #expect(WeightMatrix(type: .q5_K, data: sb.baseAddress!, rows: 16, cols: 256).interleavedCopy { kept.append($0) } == nil, "Q5_K has no interleaved kernels")
            #expect(m.interleavedCopy(enabled: false) { kept.append($0) } == nil, "--no-interleave-weights")
        }
    }

    /// A load copies a matrix a few megabytes at a time and hands each piece of the stored rows
    /// back (GGUF drops those pages): the pieces are the same bytes as one repack of the whole,
    /// and together they cover the stored rows once, in order.
    @Test("a matrix interleaved in pieces is the matrix interleaved whole")
    func inPieces() {
        let rows = 8192, cols = 576  // a Q8_0 row is 612 bytes: 5 MB, more than one piece
        let w = Weights(type: .q8_0, rows: rows, cols: cols, seed: 7)
        var kept: [FloatBuffer] = []
        var pieces: [(Int, Int)] = []
        w.stored.withUnsafeBytes { sb in
            let base = sb.baseAddress!
            let m = WeightMatrix(type: .q8_0, data: base, rows: rows, cols: cols)
            let copy = m.interleavedCopy(enabled: true, keep: { kept.append($0) }, done: { pieces.append(($0 - base, $1)) })
            guard let copy else {
                #expect(rs_x16_pays(Int32(GGMLType.q8_0.rawValue), Int64(rows), Int64(cols)) == 0)
                return
            }
            let bytes = Array(UnsafeRawBufferPointer(start: copy.data, count: w.packed.count))
            #expect(bytes == w.packed)
            #expect(pieces.count > 1)
            var next = 0
            for (offset, count) in pieces {
                #expect(offset == next && count % (16 * m.rowBytes) == 0)
                next = offset + count
            }
            #expect(next == w.stored.count)
        }
    }

    /// SmolLM2 (Q4_1 layers, a Q8_0 head) loads interleaved on AVX-512 VNNI CPUs.
    static let smolInterleaved = KernelPath.interleaveWeights && rs_x16_pays(Int32(GGMLType.q4_1.rawValue), 16, 32) != 0
        && rs_x16_pays(Int32(GGMLType.q8_0.rawValue), 16, 32) != 0

    /// A speculative verification multiplies its tokens in one step; with every product
    /// interleaved, each token's logits are those of decoding it alone, to the bit: the greedy
    /// lossless property holds by construction, not only by the margin between logits. Attention,
    /// norms and the activations' quantization are per token already.
    @Test("SmolLM2: verifying four tokens in one step gives decoding's logits to the bit",
          .enabled(if: smolInterleaved, "the weights load interleaved only where AVX-512 VNNI runs them"))
    func verificationEqualsDecoding() throws {
        let was = rs_set_thread_bf16_prompts(1)
        defer { rs_set_thread_bf16_prompts(was) }
        let model = try ModelRegistry.load(gguf: try TestModels.smol.get())
        let prompt = EngineFixtures.fillerPrompt(24, seed: 5), drafts: [Int32] = [279, 1345, 282, 253]
        let cache = KVCache(layers: model.info.layers, kvDim: model.info.kvDim, tokens: 256, pageSize: 16, precision: .float16)
        let slots = ReqToTokenPool(rows: 2, maxContext: 64)
        var pages: [Int32] = []
        func row() -> Int {
            let r = slots.allocateRow()!, first = pages.count
            _ = cache.allocator.allocate(2, into: &pages)
            for p in 0 ..< 32 { slots.row(r)[p] = pages[first + p / 16] * 16 + Int32(p % 16) }
            return r * slots.maxContext
        }
        var batch = ForwardBatch(slotTable: slots.table)
        func step(_ build: (inout ForwardBatch) -> Void) -> Logits {
            batch.removeAll()
            build(&batch)
            return ActivationFormat.int16.with { model.forward(batch, cache: cache) }
        }
        let a = row(), b = row()
        _ = step { $0.append(tokens: prompt, startPosition: 0, slotRow: a, prompt: true) }
        _ = step { $0.append(tokens: prompt, startPosition: 0, slotRow: b, prompt: true) }
        var decoded: [[Float]] = []
        for (i, t) in drafts.enumerated() {
            decoded.append(Array(step { $0.append(tokens: CollectionOfOne(t), startPosition: 24 + i, slotRow: a) }.row(0)))
        }
        let verified = step { $0.append(tokens: drafts, startPosition: 24, slotRow: b, allLogits: true) }
        #expect(verified.rows == 4)
        for i in 0 ..< 4 {
            let v = Array(verified.row(i))
            #expect(v == decoded[i], "token \(i): max difference \(zip(v, decoded[i]).map { abs($0 - $1) }.max()!)")
        }
    }
}
