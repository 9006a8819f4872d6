@testable import Engine
import Foundation
import Kernels
import Testing

/// The grouped expert product against a double-precision product of each expert's dequantized
/// weights over its own rows; and a whole MoE layer on every path, where without AVX2 the
/// grouped backend falls back to one product per expert.
@Suite("grouped expert products")
struct GroupedMatmulTests {
    static let types: [GGMLType] = [.bf16, .f16, .f32, .q8_0, .q5_0, .q4_0, .q4_1, .q4_K, .q5_K, .q6_K]

    /// Group sizes cover the AVX-512 matrix-vector path (1, 2), every tile remainder (3, 5, 6, 7)
    /// and more rows than one activation block (37 > 32); on AVX2 both sides of the matrix-vector
    /// limits (8 tokens of fp32 activations, 16 of integer ones: 12 and 37). 300 weight rows span
    /// two work chunks.
    @Test("y = x W_e^T per group matches a double-precision reference: AVX-512 (the tile)", ForcedISA.avx512.trait, arguments: types, [false, true])
    func productAVX512(type: GGMLType, accumulate: Bool) { Self.product(.avx512, type, accumulate, acts: RS_ACTS_FP32) }

    @Test("y = x W_e^T per group matches a double-precision reference: AVX2 (matrix-vector kernels and sgemm panels)", ForcedISA.avx2.trait, arguments: types, [false, true])
    func productAVX2(type: GGMLType, accumulate: Bool) { Self.product(.avx2, type, accumulate, acts: RS_ACTS_FP32) }

    /// With integer activations the AVX2 path runs the integer kernels over groups of up to 16
    /// rows (sgemm above), so the reference multiplies the weights by the activations as they
    /// were quantized: per block of 32, round(x * levels / amax) * amax / levels.
    @Test("AVX2 with int16 and int8 activations: each group's product matches the double-precision product of its quantized rows",
          ForcedISA.avx2.trait, arguments: types.filter { rs_int_supported(Int32($0.rawValue), 512) != 0 }, [RS_ACTS_INT16, RS_ACTS_INT8])
    func productAVX2Integer(type: GGMLType, acts: Int) { Self.product(.avx2, type, false, acts: acts) }

    static func quantized(_ x: [Float], levels: Float) -> [Float] {
        var out = x
        for b in stride(from: 0, to: x.count, by: 32) {
            let amax = x[b ..< b + 32].map(abs).max()!
            guard amax > 0 else { continue }
            let id = levels / amax, d = amax / levels
            for k in b ..< b + 32 { out[k] = (x[k] * id).rounded(.toNearestOrEven) * d }
        }
        return out
    }

    static func product(_ isa: ForcedISA, _ type: GGMLType, _ accumulate: Bool, acts: Int) {
        let previousActs = rs_set_thread_activations(Int32(acts))
        defer { rs_set_thread_activations(previousActs) }
        isa.run { #expect(rs_grouped_supported(Int32(type.rawValue), 512) != 0) }
        var rng = SeededGenerator(seed: UInt64(type.rawValue) * 10 + (accumulate ? 1 : 0))
        let experts = 6, rows = 300, cols = 512
        let sizes = [1, 2, 3, 5, 6, 7, 37, 4, 12].shuffled(using: &rng)
        let ids: [Int32] = [4, 0, 5, 2, 1, 3].map(Int32.init) + [4, 2, 1]  // experts may repeat
        let first = sizes.indices.map { Int64(sizes[..<$0].reduce(0, +)) }
        let total = sizes.reduce(0, +)
        let mats = (0 ..< experts).map { _ in MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng) }
        let x = (0 ..< total * cols).map { _ in rng.nextUnit() * 2 - 1 }
        // Groups above 16 rows take sgemm on fp32 activations whatever the setting.
        let integer = acts != RS_ACTS_FP32 && rs_int_supported(Int32(type.rawValue), Int64(cols)) != 0
        let levels: Float = acts == RS_ACTS_INT8 ? 127 : 32767
        let xq = integer ? Self.quantized(x, levels: levels) : x
        let start = (0 ..< total * rows).map { _ in rng.nextUnit() }
        var y = start
        let rowBytes = type.byteCount(values: cols)!
        var deq = [[Float]](repeating: [], count: experts)
        for e in 0 ..< experts {
            deq[e] = [Float](repeating: 0, count: rows * cols)
            mats[e].withUnsafeBytes { wb in
                let m = WeightMatrix(type: type, data: wb.baseAddress!, rows: rows, cols: cols)
                deq[e].withUnsafeMutableBufferPointer { d in for r in 0 ..< rows { m.dequantizeRow(r, into: d.baseAddress! + r * cols) } }
            }
        }
        let storage = mats.map { m -> UnsafeMutableRawPointer in
            let p = UnsafeMutableRawPointer.allocate(byteCount: m.count, alignment: 64)
            p.copyMemory(from: m, byteCount: m.count)
            return p
        }
        defer { storage.forEach { $0.deallocate() } }
        var table: [UnsafeRawPointer?] = storage.map { UnsafeRawPointer($0) }
        let counts = sizes.map(Int64.init)
        table.withUnsafeMutableBufferPointer { tb in
            y.withUnsafeMutableBufferPointer { yb in
                var job = rs_grouped_job(type: Int32(type.rawValue), w: UnsafePointer(tb.baseAddress), row_bytes: Int64(rowBytes),
                                         rows: Int64(rows), y: yb.baseAddress, ldy: Int64(rows), accumulate: accumulate ? 1 : 0)
                isa.run { rs_grouped_matmul(&job, 1, ids, first, counts, Int64(sizes.count), x, Int64(cols), Int64(cols)) }
            }
        }
        var worst = 0.0
        for (g, size) in sizes.enumerated() {
            let e = Int(ids[g])
            let xs = size <= 16 ? xq : x
            for i in Int(first[g]) ..< Int(first[g]) + size {
                for r in 0 ..< rows {
                    var s = accumulate ? Double(start[i * rows + r]) : 0, scale = 1.0
                    for k in 0 ..< cols {
                        let p = Double(deq[e][r * cols + k]) * Double(xs[i * cols + k])
                        s += p
                        scale += abs(p)
                    }
                    worst = max(worst, abs(s - Double(y[i * rows + r])) / scale)
                }
            }
        }
        #expect(worst < 1e-6, "\(type) on \(isa), activations \(acts): relative error \(worst)")
    }

    @Test("the grouped kernel is offered on AVX-512 and AVX2, and refused when the path is forced to scalar")
    func offered() throws {
        for isa in ForcedISA.allCases where isa.runsHere {
          isa.run {
            for type in Self.types {
                #expect((rs_grouped_supported(Int32(type.rawValue), 512) != 0) == (isa != .scalar), "\(type) on \(isa)")
            }
          }
        }
    }

    /// A softmax-routed layer of 6 experts, top 2, over 13 tokens (no multiple of a tile or
    /// vector), hidden 256 and an expert width of 96 (256 for K-quants), against the same
    /// experts computed in double precision for each token's chosen pairs. Built and run with
    /// the path forced, so the layer's grouped backend uses the AVX-512 tile, the AVX2 path, or
    /// falls back to one matrix product per expert, as it does on a CPU without AVX2.
    @Test("a MoE layer's grouped and dense backends vs double precision: scalar (the grouped backend's fallback)", arguments: types)
    func moeScalar(type: GGMLType) { Self.moeLayer(.scalar, type) }
    @Test("a MoE layer's grouped and dense backends vs double precision: AVX2 (the grouped kernel's matrix-vector path)", ForcedISA.avx2.trait, arguments: types) func moeAVX2(type: GGMLType) { Self.moeLayer(.avx2, type) }
    @Test("a MoE layer's grouped and dense backends vs double precision: AVX-512 (the grouped kernel)", ForcedISA.avx512.trait, arguments: types) func moeAVX512(type: GGMLType) { Self.moeLayer(.avx512, type) }

    static func moeLayer(_ isa: ForcedISA, _ type: GGMLType) {
        var rng = SeededGenerator(seed: 77 + UInt64(type.rawValue))
        let e = 6, k = 2, d = 256, f = type.blockValues == 256 ? 256 : 96, n = 13
        func matrix(_ rows: Int, _ cols: Int, _ t: GGMLType) -> UnsafeMutableRawPointer {
            let bytes = MatmulTests.randomMatrix(type: t, rows: rows, cols: cols, rng: &rng)
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
            p.copyMemory(from: bytes, byteCount: bytes.count)
            return p
        }
        var storage: [UnsafeMutableRawPointer] = []
        defer { storage.forEach { $0.deallocate() } }
        func weight(_ rows: Int, _ cols: Int, _ t: GGMLType) -> WeightMatrix {
            let p = matrix(rows, cols, t)
            storage.append(p)
            return WeightMatrix(type: t, data: p, rows: rows, cols: cols)
        }
        let routerWeight = weight(e, d, .f32)
        let experts = (0 ..< e).map { _ in MLP(gate: weight(f, d, type), up: weight(f, d, type), down: weight(d, f, type)) }
        let h = (0 ..< n * d).map { _ in rng.nextUnit() * 2 - 1 }
        let base = (0 ..< n * d).map { _ in rng.nextUnit() }
        // fp32 activations: the bound below is fp32 rounding, not int16 quantization.
        let previousActs = rs_set_thread_activations(Int32(RS_ACTS_FP32))
        defer { rs_set_thread_activations(previousActs) }
        func deq(_ m: WeightMatrix) -> [Double] {
            var row = [Float](repeating: 0, count: m.cols), out: [Double] = []
            for r in 0 ..< m.rows {
                row.withUnsafeMutableBufferPointer { rs_dequantize_row_ref(Int32(m.type.rawValue), m.data + r * m.rowBytes, $0.baseAddress, Int64(m.cols)) }
                out += row.map(Double.init)
            }
            return out
        }
        let dq = experts.map { (deq($0.gate), deq($0.up), deq($0.down)) }
        for backend in [MoEBackend.grouped, .dense] {
            let layer = isa.run {
                MoELayer(router: Router(kind: .softmax(normalize: true), experts: e, topK: k, bias: nil),
                         routerWeight: routerWeight, experts: experts, shared: nil, hidden: d)
            }
            var out = base
            isa.run {
                h.withUnsafeBufferPointer { hp in out.withUnsafeMutableBufferPointer { layer.forward(hp.baseAddress!, n: n, into: $0.baseAddress!, backend: backend) } }
            }
            #expect(layer.counts.reduce(0, +) == Int64(n * k))
            var worst = 0.0
            for t in 0 ..< n {
                var want = base[t * d ..< (t + 1) * d].map(Double.init), scale = [Double](repeating: 1e-3, count: d)
                for j in 0 ..< k {
                    let x = Int(layer.ids[t * k + j]), w = Double(layer.weights.pointer[t * k + j])
                    let (gw, uw, dw) = dq[x]
                    var act = [Double](repeating: 0, count: f)
                    for r in 0 ..< f {
                        var g = 0.0, u = 0.0
                        for c in 0 ..< d { g += gw[r * d + c] * Double(h[t * d + c]); u += uw[r * d + c] * Double(h[t * d + c]) }
                        act[r] = g / (1 + Foundation.exp(-g)) * u
                    }
                    for r in 0 ..< d {
                        var y = 0.0, mag = 0.0
                        for c in 0 ..< f { y += dw[r * f + c] * act[c]; mag += abs(dw[r * f + c] * act[c]) }
                        want[r] += w * y
                        scale[r] += abs(w) * mag
                    }
                }
                for r in 0 ..< d { worst = max(worst, abs(want[r] - Double(out[t * d + r])) / scale[r]) }
            }
            #expect(worst < 1e-5, "\(type) \(backend) on \(isa): relative error \(worst)")
        }
    }
}
