import Engine
import Foundation
import Kernels
import Testing

/// Every kernel family on every path (scalar, AVX2, AVX-512), forced on one machine with
/// `ForcedISA`, against double-precision references, at sizes that leave vector tails: row counts
/// and head sizes that are not multiples of 8 or 16, fp32 rows whose width is not either. A path
/// this CPU cannot run is a skipped test with its reason (`ForcedISA.trait`), never a pass. Each
/// family has a test per path: scalar (always), AVX2, AVX-512.
/// The integer matrix-vector paths are in `IntegerDecodeTests`, the grouped expert products in
/// `GroupedMatmulTests`, both forced the same way.
@Suite("kernel paths, each forced")
struct KernelPathTests {
    // ---- the switch itself ----------------------------------------------------------------

    /// rs_isa() as seen by each task of a pool region, from the first region in which a worker
    /// took part: a pool starved of cores runs regions on the issuer alone for a while.
    private static func isaSeenByPool() -> [Int32] {
        let n = Int(rs_pool_size())
        for _ in 0 ..< 500 {
            var seen = [Int32](repeating: -9, count: n)
            seen.withUnsafeMutableBufferPointer { buf in
                rs_parallel({ ctx, ith, _ in
                    ctx!.assumingMemoryBound(to: Int32.self)[Int(ith)] = rs_isa()
                    // A worker not started when the caller is done is left out of the region:
                    // give a sleeping one time to wake and join.
                    if ith == 0 { usleep(5_000) }
                }, buf.baseAddress)
            }
            if n == 1 || seen.dropFirst().contains(where: { $0 != -9 }) { return seen.filter { $0 != -9 } }
            usleep(20_000)
        }
        return []
    }

    static func switchReachesPool(_ isa: ForcedISA) {
        let before = rs_isa()
        isa.run {
            #expect(rs_isa() == isa.rawValue)
            let seen = Self.isaSeenByPool()
            #expect(!seen.isEmpty && seen.allSatisfy { $0 == isa.rawValue }, "\(seen)")
            let name = String(cString: rs_gemv_kernel_name(Int32(GGMLType.q4_1.rawValue), Int32(RS_ACTS_INT16)))
            let vnni = isa == .avx512 && rs_cpu_features_current().pointee.avx512vnni != 0
            #expect(name == (isa == .scalar ? "int16-scalar" : vnni ? "int16-avx512vnni" : "int16-avx2"))
            if isa != .avx512 { #expect(!String(cString: rs_gemv_kernel_name(Int32(GGMLType.f16.rawValue), Int32(RS_ACTS_FP32))).contains("avx512")) }
        }
        #expect(rs_isa() == before)
        // Another thread never saw the setting.
        let other = Thread.detachedISA()
        #expect(other == before)
    }

    @Test("the forced path holds on the pool's workers, and only for the forcing thread: scalar")
    func switchScalar() { Self.switchReachesPool(.scalar) }
    @Test("the forced path holds on the pool's workers: AVX2", ForcedISA.avx2.trait) func switchAVX2() { Self.switchReachesPool(.avx2) }
    @Test("the forced path holds on the pool's workers: AVX-512", ForcedISA.avx512.trait) func switchAVX512() { Self.switchReachesPool(.avx512) }

    @Test("a path the CPU lacks is refused")
    func refused() {
        if ForcedISA.native < RS_ISA_AVX512 { #expect(rs_set_thread_isa(Int32(RS_ISA_AVX512)) == -2) }
        #expect(rs_thread_isa() == -1)
    }

    // ---- fp32 matrix-vector (fused dequantize-and-dot; F32/F16/BF16 at any width) -----------

    static let fp32Types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32]

    /// Shapes: (rows, cols). 37 and 301 rows are no multiple of a vector, tile or 16-row chunk;
    /// 301 x 512 runs on the pool, 37 rows on the calling thread. F32/F16/BF16 also take widths
    /// 100 and 37 (scalar tails after 8- and 32-wide loops).
    static func shapes(_ type: GGMLType) -> [(Int, Int)] {
        let b = type.blockValues
        var s = [(37, b == 256 ? 768 : 224), (301, b == 256 ? 512 : 512)]
        if b == 1 { s += [(37, 100), (301, 37)] }
        return s
    }

    @Test("fp32-activation matrix-vector product vs double precision: scalar", arguments: fp32Types)
    func fp32GemvScalar(type: GGMLType) { Self.fp32Gemv(.scalar, type) }
    @Test("fp32-activation matrix-vector product vs double precision: AVX2", ForcedISA.avx2.trait, arguments: fp32Types) func fp32GemvAVX2(type: GGMLType) { Self.fp32Gemv(.avx2, type) }
    @Test("fp32-activation matrix-vector product vs double precision: AVX-512", ForcedISA.avx512.trait, arguments: fp32Types) func fp32GemvAVX512(type: GGMLType) { Self.fp32Gemv(.avx512, type) }

    static func fp32Gemv(_ isa: ForcedISA, _ type: GGMLType) {
        for (rows, cols) in Self.shapes(type) {
            for tokens in [1, 3, 8] {
                var rng = SeededGenerator(seed: UInt64(type.rawValue) * 7919 + UInt64(rows * 31 + cols + tokens))
                let w = MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
                let x = (0 ..< tokens * cols).map { _ in rng.nextUnit() * 2 - 1 }
                var y = [Float](repeating: 1, count: tokens * rows)
                var deq = [Float](repeating: 0, count: rows * cols)
                w.withUnsafeBytes { wb in
                    for r in 0 ..< rows {
                        deq.withUnsafeMutableBufferPointer { rs_dequantize_row_ref(Int32(type.rawValue), wb.baseAddress! + r * type.byteCount(values: cols)!, $0.baseAddress! + r * cols, Int64(cols)) }
                    }
                    x.withUnsafeBufferPointer { xb in
                        y.withUnsafeMutableBufferPointer { yb in
                            var job = rs_matmul_job(type: Int32(type.rawValue), w: wb.baseAddress, row_bytes: Int64(type.byteCount(values: cols)!),
                                                    rows: Int64(rows), y: yb.baseAddress, ldy: Int64(rows), accumulate: 1)
                            isa.run { rs_matmul_ex(&job, 1, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), Int32(RS_ACTS_FP32)) }
                        }
                    }
                }
                var worst = 0.0
                for t in 0 ..< tokens {
                    for r in 0 ..< rows {
                        var s = 1.0, scale = 1.0
                        for k in 0 ..< cols {
                            let p = Double(deq[r * cols + k]) * Double(x[t * cols + k])
                            s += p
                            scale += abs(p)
                        }
                        worst = max(worst, abs(s - Double(y[t * rows + r])) / scale)
                    }
                }
                #expect(worst < 1e-6, "\(type) \(rows)x\(cols), \(tokens) tokens on \(isa): relative error \(worst)")
            }
        }
    }

    // ---- attention --------------------------------------------------------------------------

    /// (tokens, context, window, head_dim, softcap). Head sizes 8, 24, 40, 100 and 256 (Gemma 3)
    /// are no multiple of 16 (AVX-512 falls back to AVX2 or the reference loop), 36 and 100 no
    /// multiple of 8 (both fall back to the reference loop); contexts are no multiple of the
    /// key block; 5 tokens over 700 keys with a 512 window is Gemma's sliding layer.
    static let attentionCases: [(Int, Int, Int, Int, Float)] = [
        (1, 300, 0, 24, 0), (3, 129, 0, 40, 0), (2, 517, 100, 36, 0), (5, 700, 512, 256, 0), (1, 77, 0, 8, 0),
        (4, 333, 0, 100, 0), (2, 250, 0, 64, 0), (1, 200, 0, 80, 30), (9, 45, 0, 128, 0),
    ]

    static func attention(_ isa: ForcedISA, _ index: Int, f16: Bool = false) throws {
        let (tokens, context, window, hd, softcap) = Self.attentionCases[index]
        try isa.run { try AttentionKernelTests.check(tokens: tokens, context: context, window: window, hd: hd, softcap: softcap, f16: f16) }
    }

    /// A half cache on every path: head dims 24, 256 (tiled in chunks on AVX-512), 64, 80 with a
    /// softcap and 128.
    static let halfCases = [0, 3, 6, 7, 8]
    @Test("paged attention over a half cache: scalar", arguments: halfCases)
    func halfAttentionScalar(index: Int) throws { try Self.attention(.scalar, index, f16: true) }
    @Test("paged attention over a half cache: AVX2", ForcedISA.avx2.trait, arguments: halfCases)
    func halfAttentionAVX2(index: Int) throws { try Self.attention(.avx2, index, f16: true) }
    @Test("paged attention over a half cache: AVX-512", ForcedISA.avx512.trait, arguments: halfCases)
    func halfAttentionAVX512(index: Int) throws { try Self.attention(.avx512, index, f16: true) }

    @Test("paged attention vs double precision: scalar", arguments: attentionCases.indices)
    func attentionScalar(index: Int) throws { try Self.attention(.scalar, index) }
    @Test("paged attention vs double precision: AVX2", ForcedISA.avx2.trait, arguments: attentionCases.indices) func attentionAVX2(index: Int) throws { try Self.attention(.avx2, index) }
    @Test("paged attention vs double precision: AVX-512", ForcedISA.avx512.trait, arguments: attentionCases.indices) func attentionAVX512(index: Int) throws { try Self.attention(.avx512, index) }

    // ---- elementwise ------------------------------------------------------------------------

    static func inputs(_ n: Int) -> [Float] {
        let edges: [Float] = [-1e4, -120, -88, -87.5, -30, -1e-7, 0, 1e-7, 3, 30, 80, 88]
        return (0 ..< n).map { i in i < edges.count ? edges[i] : Float(i % 61) * 0.9 - 27 + Float(i % 7) * 0.013 }
    }

    /// Lengths leave every tail: below one vector, one lane short and past 8 and 16 lanes.
    static let lengths = [1, 7, 9, 15, 17, 31, 33, 203]

    @Test("silu(g) * u, gelu_tanh(g) * u and exp(x - max) vs double precision: scalar")
    func elementwiseScalar() { Self.elementwise(.scalar) }
    @Test("silu, gelu_tanh and exp(x - max) vs double precision: AVX2", ForcedISA.avx2.trait) func elementwiseAVX2() { Self.elementwise(.avx2) }
    @Test("silu, gelu_tanh and exp(x - max) vs double precision: AVX-512", ForcedISA.avx512.trait) func elementwiseAVX512() { Self.elementwise(.avx512) }

    static func elementwise(_ isa: ForcedISA) {
        for n in Self.lengths {
            let g = Self.inputs(n), u = (0 ..< n).map { Float($0 % 5) - 1.5 }
            var silu = [Float](repeating: .nan, count: n), gelu = silu, e = g
            let gg = g.map { max($0, -40) }
            let mx = g.max()!
            var sum: Float = 0
            isa.run {
                rs_silu_mul(g, u, &silu, Int64(n))
                rs_gelu_tanh_mul(gg, u, &gelu, Int64(n))
                sum = rs_exp_sub_sum(&e, Int64(n), mx)
            }
            var wantSum = 0.0
            for i in 0 ..< n {
                let x = Double(g[i]), ui = Double(u[i])
                let s = x / (1 + Foundation.exp(-x)) * ui
                #expect(abs(Double(silu[i]) - s) <= 2e-6 * abs(s) + 1e-30, "\(isa) n=\(n): silu at \(x): \(silu[i]) vs \(s)")
                let z = Double(gg[i])
                let ge = 0.5 * z * (1 + Foundation.tanh(0.7978845608028654 * (z + 0.044715 * z * z * z))) * ui
                // tanh through exp: 1 - 2/(e^2z + 1) loses relative precision as the result nears 0.
                #expect(abs(Double(gelu[i]) - ge) <= 4e-6 * (abs(ge) + abs(z * ui)) + 1e-30, "\(isa) n=\(n): gelu at \(z): \(gelu[i]) vs \(ge)")
                let ex = Foundation.exp(x - Double(mx))
                wantSum += ex
                #expect(abs(Double(e[i]) - ex) <= 2e-6 * ex + 1e-30, "\(isa) n=\(n): exp(\(x - Double(mx))) = \(e[i]) vs \(ex)")
            }
            #expect(abs(Double(sum) - wantSum) <= 1e-5 * wantSum, "\(isa) n=\(n): sum \(sum) vs \(wantSum)")
        }
    }
}

private extension Thread {
    /// rs_isa() as a fresh thread sees it.
    static func detachedISA() -> Int32 {
        final class Box: @unchecked Sendable { var value: Int32 = -9 }
        let box = Box(), done = DispatchSemaphore(value: 0)
        let t = Thread { box.value = rs_isa(); done.signal() }
        t.start()
        done.wait()
        return box.value
    }
}
