import Engine
import Foundation
import Kernels
import Testing

/// The integer matrix-vector kernels (activations quantized per block of 32 to int8 or int16) on
/// every path this CPU can run, against a double-precision product of the dequantized weights
/// and the exact fp32 activations. The bound is the activation quantization error itself,
/// sum |w| * amax / levels / 2 per block, so a wrong scale, nibble or offset anywhere fails.
@Suite("integer decode kernels")
struct IntegerDecodeTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K]
    static let native = rs_cpu_plan_native().pointee.isa

    /// `forced`: through `rs_matmul_ex` (the engine's dispatch, on the pool when the product is
    /// large enough) with that path forced, instead of calling the `isa` kernels directly.
    /// `interleaved`: the weights repacked 16 rows at a time (`rs_repack_x16`; rows a multiple of 16).
    static func check(type: GGMLType, isa: Int32, levels: Int32, tokens: Int, rows: Int = 37, forced: ForcedISA? = nil,
                      cols: Int? = nil, interleaved: Bool = false) {
        var rng = SeededGenerator(seed: UInt64(type.rawValue) * 1000 + UInt64(tokens) * 10 + UInt64(isa) + UInt64(rows))
        // 37 rows: not a multiple of any vector width or tile; 3 super-blocks or 7 blocks wide.
        let cols = cols ?? (type.blockValues == 256 ? 768 : 224)
        let w = MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
        // Blocks of very different magnitudes, and a zero block, as real activations have.
        let x: [Float] = (0 ..< tokens * cols).map { i in
            let block = i / 32
            if block % 5 == 3 { return 0 }
            return (rng.nextUnit() * 2 - 1) * Float(1 << (block % 4)) * 0.37
        }
        var y = [Float](repeating: 0.5, count: tokens * rows)
        var deq = [Float](repeating: 0, count: rows * cols)
        var rc: Int32 = 0
        var packed = w
        if interleaved { w.withUnsafeBytes { s in packed.withUnsafeMutableBytes { rs_repack_x16(Int32(type.rawValue), s.baseAddress, Int64(rows), Int64(cols), $0.baseAddress) } } }
        let kernelType = Int32(type.rawValue) | (interleaved ? RS_TYPE_X16 : 0)
        w.withUnsafeBytes { sb in deq.withUnsafeMutableBufferPointer { d in
            let m = WeightMatrix(type: type, data: sb.baseAddress!, rows: rows, cols: cols)
            for r in 0 ..< rows { m.dequantizeRow(r, into: d.baseAddress! + r * cols) }
        } }
        packed.withUnsafeBytes { wb in
            let m = WeightMatrix(type: type, data: wb.baseAddress!, rows: rows, cols: cols)
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    var job = rs_matmul_job(type: kernelType, w: wb.baseAddress, row_bytes: Int64(m.rowBytes), rows: Int64(rows),
                                            y: yb.baseAddress, ldy: Int64(rows), accumulate: 1)
                    if let forced {
                        let acts = levels == 127 ? RS_ACTS_INT8 : RS_ACTS_INT16
                        forced.run { rs_matmul_ex(&job, 1, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), Int32(acts)) }
                    } else {
                        rc = rs_gemv_int_path(&job, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), isa, levels)
                    }
                }
            }
        }
        #expect(rc == 0)
        var worst = 0.0
        for t in 0 ..< tokens {
            for r in 0 ..< rows {
                // Each activation is off by at most half a step, amax(block) / levels / 2.
                var exact = 0.5, quantBound = 0.0, magnitude = 0.0
                for b in 0 ..< cols / 32 {
                    var amax = 0.0, wsum = 0.0
                    for k in b * 32 ..< b * 32 + 32 {
                        let wk = Double(deq[r * cols + k]), xk = Double(x[t * cols + k])
                        exact += wk * xk
                        magnitude += abs(wk * xk)
                        amax = max(amax, abs(xk))
                        wsum += abs(wk)
                    }
                    quantBound += wsum * amax / Double(levels) / 2
                }
                // fp32 accumulation and the scales' products add a few ulps of the magnitude.
                let bound = quantBound * 1.0001 + 1e-6 * magnitude + 1e-7
                let err = abs(exact - Double(y[t * rows + r]))
                worst = max(worst, err / bound)
            }
        }
        #expect(worst <= 1, "\(type)\(interleaved ? " interleaved" : "") isa \(isa) levels \(levels) \(tokens) tokens: error is \(worst)x the bound")
    }

    @Test("scalar path", arguments: types, [1, 2, 5, 8])
    func scalar(type: GGMLType, tokens: Int) {
        Self.check(type: type, isa: Int32(RS_ISA_SCALAR), levels: 32767, tokens: tokens)
        Self.check(type: type, isa: Int32(RS_ISA_SCALAR), levels: 127, tokens: tokens)
    }

    @Test("AVX2 path", ForcedISA.avx2.trait,
          arguments: types, [1, 2, 3, 4, 5, 7, 8])
    func avx2(type: GGMLType, tokens: Int) {
        Self.check(type: type, isa: Int32(RS_ISA_AVX2), levels: 32767, tokens: tokens)
        Self.check(type: type, isa: Int32(RS_ISA_AVX2), levels: 127, tokens: tokens)
    }

    /// The AVX2 int16 kernel decodes the scales of eight blocks at once and, for a product of one
    /// token, multiplies them with eight activation scales in one vector: rows of whole groups
    /// and a tail (25 blocks: 3 groups + 1), and 9 or 12 tokens, where a tile of one or four
    /// tokens follows one of eight (the activation scales are then not contiguous).
    @Test("AVX2 path, groups of eight blocks", ForcedISA.avx2.trait,
          arguments: types, [1, 2, 4, 8, 9, 12])
    func avx2Groups(type: GGMLType, tokens: Int) {
        let cols = type.blockValues == 256 ? 1024 : 800
        Self.check(type: type, isa: Int32(RS_ISA_AVX2), levels: 32767, tokens: tokens, cols: cols)
        Self.check(type: type, isa: Int32(RS_ISA_AVX2), levels: 127, tokens: tokens, cols: cols)
    }

    /// The engine's own dispatch with each path forced: 601 rows (no multiple of a vector, tile
    /// or chunk) run on the pool, whose workers must take the forced path too. AVX-512 runs the
    /// VNNI integer kernels where the CPU has AVX-512 VNNI, the AVX2 ones otherwise.
    @Test("rs_matmul with the path forced: scalar", arguments: types)
    func forcedScalar(type: GGMLType) { Self.forcedMatmul(.scalar, type) }
    @Test("rs_matmul with the path forced: AVX2", ForcedISA.avx2.trait, arguments: types) func forcedAVX2(type: GGMLType) { Self.forcedMatmul(.avx2, type) }
    @Test("rs_matmul with the path forced: AVX-512", ForcedISA.avx512.trait, arguments: types) func forcedAVX512(type: GGMLType) { Self.forcedMatmul(.avx512, type) }

    static func forcedMatmul(_ isa: ForcedISA, _ type: GGMLType) {
        for tokens in [1, 5, 8, 16] {
            Self.check(type: type, isa: isa.rawValue, levels: 32767, tokens: tokens, rows: 601, forced: isa)
            Self.check(type: type, isa: isa.rawValue, levels: 127, tokens: tokens, rows: 601, forced: isa)
        }
    }

    /// Both quantizers give the same integers and every kernel computes W . (d q), so the AVX2
    /// kernels (int8 through vpmaddubsw, int16 through vpmaddwd) and, on a CPU that has them, the
    /// AVX-512 VNNI ones (vpdpbusd, vpdpwssd) equal the plain-C definition up to fp32 summation order: a far tighter bound than the quantization error above, which
    /// catches a bias or offset taken from the wrong sum, or Q6_K's scales on the wrong half.
    @Test("AVX2 and AVX-512 VNNI integer kernels equal the scalar definition", ForcedISA.avx2.trait, arguments: types, [Int32(127), Int32(32767)])
    func avx2EqualsScalar(type: GGMLType, levels: Int32) {
        // The 512-bit kernel runs where it measured faster; on this thread here always.
        let pairs = rs_set_thread_int16_pairs(1)
        defer { rs_set_thread_int16_pairs(pairs) }
        var rng = SeededGenerator(seed: UInt64(type.rawValue) * 31 + UInt64(levels))
        // 160 columns: blocks one at a time; 800: three groups of eight and one more.
        for cols in type.blockValues == 256 ? [512, 1024] : [160, 800] {
            let rows = 29
            let w = MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
            // With AVX-512 VNNI, six or more tokens take the 512-bit kernel (token pairs, tiles
            // of sixteen): 7 ends on a pair with no partner, 17 is a whole tile and a lone token.
            for tokens in [1, 3, 4, 6, 7, 9, 12, 17] {
                let x: [Float] = (0 ..< tokens * cols).map { i in (rng.nextUnit() * 2 - 1) * Float(1 << ((i / 32) % 5)) }
                var out: [[Float]] = []
                var magnitude = [Double](repeating: 0, count: tokens * rows)
                w.withUnsafeBytes { wb in
                    let m = WeightMatrix(type: type, data: wb.baseAddress!, rows: rows, cols: cols)
                    var deq = [Float](repeating: 0, count: cols)
                    for r in 0 ..< rows {
                        deq.withUnsafeMutableBufferPointer { m.dequantizeRow(r, into: $0.baseAddress!) }
                        for t in 0 ..< tokens { magnitude[t * rows + r] = (0 ..< cols).reduce(0) { $0 + abs(Double(deq[$1]) * Double(x[t * cols + $1])) } }
                    }
                    for isa in [Int32(RS_ISA_SCALAR), Int32(RS_ISA_AVX2)] + (Self.native >= RS_ISA_AVX512 ? [Int32(RS_ISA_AVX512)] : []) {
                        var y = [Float](repeating: 0, count: tokens * rows)
                        x.withUnsafeBufferPointer { xb in
                            y.withUnsafeMutableBufferPointer { yb in
                                var job = rs_matmul_job(type: Int32(type.rawValue), w: wb.baseAddress, row_bytes: Int64(m.rowBytes), rows: Int64(rows),
                                                        y: yb.baseAddress, ldy: Int64(rows), accumulate: 0)
                                #expect(rs_gemv_int_path(&job, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), isa, levels) == 0)
                            }
                        }
                        out.append(y)
                    }
                }
                for k in 1 ..< out.count {
                    let worst = (0 ..< tokens * rows).map { abs(Double(out[0][$0]) - Double(out[k][$0])) / (2e-6 * magnitude[$0] + 1e-6) }.max()!
                    #expect(worst <= 1, "\(type) levels \(levels) \(tokens) tokens, \(cols) columns: \(k == 1 ? "AVX2" : "AVX-512 VNNI") is \(worst)x the rounding bound from the scalar result")
                }
                // VNNI fuses instructions, not arithmetic, and the 512-bit kernel keeps each token's
                // lanes and order: the same integers, the same float sums.
                if out.count == 3 { #expect(out[1] == out[2], "\(type) levels \(levels) \(tokens) tokens: AVX-512 VNNI differs from AVX2") }
            }
        }
    }

    /// Up to 16 tokens (a batch of 16 decoding sequences): the integer kernels, not sgemm.
    @Test("the default matmul takes the integer path", arguments: types, [3, 16])
    func viaMatmul(type: GGMLType, tokens: Int) {
        var rng = SeededGenerator(seed: 5)
        let rows = 100, cols = type.blockValues == 256 ? 512 : 288
        let w = MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
        let x = (0 ..< tokens * cols).map { _ in rng.nextUnit() * 2 - 1 }
        var viaMatmul = [Float](repeating: 0, count: tokens * rows), direct = viaMatmul
        let isa = min(Self.native, Int32(RS_ISA_AVX2))
        #expect(rs_thread_activations() == RS_ACTS_INT16)
        w.withUnsafeBytes { wb in
            x.withUnsafeBufferPointer { xb in
                for (out, useMatmul) in [(0, true), (1, false)] {
                    var y = [Float](repeating: 0, count: tokens * rows)
                    y.withUnsafeMutableBufferPointer { yb in
                        var job = rs_matmul_job(type: Int32(type.rawValue), w: wb.baseAddress, row_bytes: Int64(type.byteCount(values: cols)!),
                                                rows: Int64(rows), y: yb.baseAddress, ldy: Int64(rows), accumulate: 0)
                        if useMatmul { rs_matmul(&job, 1, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens)) }
                        else { _ = rs_gemv_int_path(&job, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), isa, 32767) }
                    }
                    if out == 0 { viaMatmul = y } else { direct = y }
                }
            }
        }
        #expect(viaMatmul == direct)
    }

    @Test("bad paths are refused, not run")
    func refused() {
        var job = rs_matmul_job(type: Int32(GGMLType.f32.rawValue), w: nil, row_bytes: 0, rows: 0, y: nil, ldy: 0, accumulate: 0)
        #expect(rs_gemv_int_path(&job, nil, 32, 32, 1, Int32(RS_ISA_SCALAR), 32767) == -1)
        job.type = Int32(GGMLType.q4_1.rawValue)
        #expect(rs_gemv_int_path(&job, nil, 33, 33, 1, Int32(RS_ISA_SCALAR), 32767) == -1)
        #expect(rs_gemv_int_path(&job, nil, 32, 32, 1, Int32(RS_ISA_AVX512) + 1, 32767) == -1)
        #expect(rs_gemv_int_path(&job, nil, 32, 32, 1, Int32(RS_ISA_SCALAR), 255) == -1, "levels other than int8's and int16's")
    }
}

/// The path is chosen from feature bits handed in, never from the model name.
@Suite("CPU path chooser")
struct CPUPlanTests {
    static func features(vendor: String, brand: String, avx2: Bool, avx512: Bool, osAVX512: Bool = true, bf16: Bool = false,
                         vnni: Bool = false, avxvnni: Bool = false) -> rs_cpu_features {
        var f = rs_cpu_features()
        withUnsafeMutableBytes(of: &f.vendor) { p in for (i, c) in vendor.utf8.prefix(12).enumerated() { p[i] = c } }
        withUnsafeMutableBytes(of: &f.brand) { p in for (i, c) in brand.utf8.prefix(48).enumerated() { p[i] = c } }
        f.os_avx = avx2 ? 1 : 0
        f.os_avx512 = avx512 && osAVX512 ? 1 : 0
        f.avx2 = avx2 ? 1 : 0; f.fma = avx2 ? 1 : 0; f.f16c = avx2 ? 1 : 0
        let a = Int32(avx512 ? 1 : 0)
        f.avx512f = a; f.avx512bw = a; f.avx512vl = a; f.avx512dq = a
        f.avx512bf16 = bf16 ? 1 : 0; f.avx512vnni = vnni ? 1 : 0; f.avxvnni = avxvnni ? 1 : 0
        return f
    }

    static func plan(_ f: rs_cpu_features) -> (isa: Int32, core: String?, vnni: Bool) {
        var f = f
        let p = rs_plan_for(&f)
        return (p.isa, p.blas_core.map { String(cString: $0) }, p.vnni != 0)
    }

    @Test("a Xeon with a generic name and AVX-512 takes the AVX-512 path and Cooperlake BLAS")
    func unknownXeon() {
        let p = Self.plan(Self.features(vendor: "GenuineIntel", brand: "Intel(R) Xeon(R) Processor", avx2: true, avx512: true,
                                        bf16: true, vnni: true, avxvnni: true))
        #expect(p.isa == RS_ISA_AVX512)
        #expect(p.core == "COOPERLAKE")
        #expect(p.vnni)
    }

    @Test("an unnamed CPU with AVX-512 but no bf16 gets SkylakeX kernels")
    func noName() {
        let p = Self.plan(Self.features(vendor: "", brand: "", avx2: true, avx512: true))
        #expect(p.isa == RS_ISA_AVX512)
        #expect(p.core == "SKYLAKEX")
        #expect(!p.vnni)
    }

    @Test("AVX-512 the OS does not save (XCR0) is not used")
    func osDisabled() {
        let p = Self.plan(Self.features(vendor: "AuthenticAMD", brand: "AMD EPYC 9654", avx2: true, avx512: true, osAVX512: false))
        #expect(p.isa == RS_ISA_AVX2)
        #expect(p.core == "ZEN")
    }

    @Test("AVX2 only: the AVX2 path; Intel and AMD name their BLAS kernels differently")
    func avx2Only() {
        #expect(Self.plan(Self.features(vendor: "AuthenticAMD", brand: "AMD EPYC", avx2: true, avx512: false)) == (Int32(RS_ISA_AVX2), "ZEN", false))
        #expect(Self.plan(Self.features(vendor: "GenuineIntel", brand: "Intel(R) Core(TM)", avx2: true, avx512: false, avxvnni: true))
            == (Int32(RS_ISA_AVX2), "HASWELL", true))
    }

    @Test("nothing: the scalar path, BLAS left to detect itself")
    func nothing() {
        let p = Self.plan(Self.features(vendor: "GenuineIntel", brand: "Intel(R) Xeon(R) Platinum 8480+", avx2: false, avx512: false))
        #expect(p.isa == RS_ISA_SCALAR)
        #expect(p.core == nil)
    }

    @Test("this machine's plan follows its own flags in /proc/cpuinfo")
    func thisMachine() throws {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(line.split(separator: ":")[1].split(separator: " ").map(String.init))
        let expected: Int32 = flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"]) ? Int32(RS_ISA_AVX512)
            : flags.isSuperset(of: ["avx2", "fma", "f16c"]) ? Int32(RS_ISA_AVX2) : Int32(RS_ISA_SCALAR)
        #expect(rs_cpu_plan_native().pointee.isa == expected)
    }
}
