import Engine
import Foundation
import Kernels
import Testing

/// The fused matrix-vector and panel+sgemm paths against a plain double-precision product of
/// the dequantized weights.
@Suite("quantized matrix products")
struct MatmulTests {
    /// Random quantized rows of `type` built by quantizing nothing: random bytes with sane scales.
    /// y (+)= x W^T through rs_matmul_ex with `acts`, on the calling thread's path; returns W
    /// dequantized (rows x cols) for a reference.
    static func multiply(type: GGMLType, _ w: [UInt8], rows: Int, cols: Int, _ x: [Float], tokens: Int, into y: inout [Float],
                         accumulate: Int32, acts: Int32) -> [Float] {
        var deq = [Float](repeating: 0, count: rows * cols)
        w.withUnsafeBytes { wb in
            let m = WeightMatrix(type: type, data: wb.baseAddress!, rows: rows, cols: cols)
            deq.withUnsafeMutableBufferPointer { d in for r in 0 ..< rows { m.dequantizeRow(r, into: d.baseAddress! + r * cols) } }
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    var job = rs_matmul_job(type: Int32(type.rawValue), w: wb.baseAddress, row_bytes: Int64(m.rowBytes), rows: Int64(rows),
                                            y: yb.baseAddress, ldy: Int64(rows), accumulate: accumulate)
                    rs_matmul_ex(&job, 1, xb.baseAddress, Int64(cols), Int64(cols), Int64(tokens), acts)
                }
            }
        }
        return deq
    }

    static func randomMatrix(type: GGMLType, rows: Int, cols: Int, rng: inout SeededGenerator) -> [UInt8] {
        let rowBytes = type.byteCount(values: cols)!
        var bytes = (0 ..< rows * rowBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let half: (Float) -> [UInt8] = { v in withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { Array($0) } }
        for r in 0 ..< rows where type.blockValues == 1 {
            for i in 0 ..< cols {
                let o = r * rowBytes + i * type.blockBytes
                let v = Float((r + i) % 7) * 0.1 - 0.3
                switch type {
                case .f16: bytes.replaceSubrange(o ..< o + 2, with: half(v))
                case .bf16: withUnsafeBytes(of: (v.bitPattern >> 16).littleEndian) { bytes.replaceSubrange(o ..< o + 2, with: $0.prefix(2)) }
                default: withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.replaceSubrange(o ..< o + 4, with: $0) }
                }
            }
        }
        for r in 0 ..< rows where type.blockValues > 1 {
            for b in 0 ..< cols / type.blockValues {
                let o = r * rowBytes + b * type.blockBytes
                switch type {
                case .q4_0, .q8_0, .q5_0: bytes.replaceSubrange(o ..< o + 2, with: half(0.01))
                case .q4_1, .q5_1: bytes.replaceSubrange(o ..< o + 4, with: half(0.01) + half(-0.05))
                case .q4_K, .q5_K: bytes.replaceSubrange(o ..< o + 4, with: half(0.001) + half(0.001))
                case .q6_K: bytes.replaceSubrange(o + 208 ..< o + 210, with: half(0.001))
                default: break
                }
            }
        }
        return bytes
    }

    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32]

    @Test("y = x W^T matches a double-precision reference", arguments: types, [1, 3, 4, 5, 9, 40])
    func product(type: GGMLType, tokens: Int) throws {
        var rng = SeededGenerator(seed: UInt64(type.rawValue) * 100 + UInt64(tokens))
        let rows = 72, cols = 512
        let w = Self.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng)
        let x = (0 ..< tokens * cols).map { _ in rng.nextUnit() * 2 - 1 }
        var y = [Float](repeating: 1, count: tokens * rows)
        // The fp32-activation path; the integer path has its own bound (IntegerDecodeTests).
        let deq = Self.multiply(type: type, w, rows: rows, cols: cols, x, tokens: tokens, into: &y, accumulate: 1,
                                acts: Int32(RS_ACTS_FP32))
        // Error relative to the sum of |terms|: what fp32 accumulation can promise.
        var worst = 0.0
        for t in 0 ..< tokens {
            for r in 0 ..< rows {
                var s = 1.0, scale = 1.0  // accumulate = 1 adds into y, which started at 1
                for k in 0 ..< cols {
                    let p = Double(deq[r * cols + k]) * Double(x[t * cols + k])
                    s += p
                    scale += abs(p)
                }
                worst = max(worst, abs(s - Double(y[t * rows + r])) / scale)
            }
        }
        #expect(worst < 1e-6, "\(type) with \(tokens) tokens: relative error \(worst)")
    }
}
