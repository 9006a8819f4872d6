import Engine
import Foundation
import Kernels
import Testing

/// The grouped expert product against a double-precision product of each expert's dequantized
/// weights over its own rows.
@Suite("grouped expert products")
struct GroupedMatmulTests {
    static let types: [GGMLType] = [.bf16, .f16, .f32, .q8_0, .q5_0, .q4_0, .q4_1, .q4_K, .q5_K, .q6_K]

    /// Group sizes cover the matrix-vector path (1, 2), every tile remainder (3, 5, 6, 7) and more
    /// rows than one activation block (37 > 32); 75 weight rows leave a 3-row remainder after the
    /// 4-row tiles and span two work chunks.
    @Test("y = x W_e^T per group matches a double-precision reference", arguments: types, [false, true])
    func product(type: GGMLType, accumulate: Bool) throws {
        #expect(rs_grouped_supported(Int32(type.rawValue), 512) == rs_have_avx512())
        guard rs_grouped_supported(Int32(type.rawValue), 512) != 0 else { return }
        var rng = SeededGenerator(seed: UInt64(type.rawValue) * 10 + (accumulate ? 1 : 0))
        let experts = 6, rows = 300, cols = 512
        let sizes = [1, 2, 3, 5, 6, 7, 37, 4].shuffled(using: &rng)
        let ids: [Int32] = [4, 0, 5, 2, 1, 3].map(Int32.init) + [4, 2]  // experts may repeat
        let first = sizes.indices.map { Int64(sizes[..<$0].reduce(0, +)) }
        let total = sizes.reduce(0, +)
        let mats = (0 ..< experts).map { _ in MatmulTests.randomMatrix(type: type, rows: rows, cols: cols, rng: &rng) }
        let x = (0 ..< total * cols).map { _ in rng.nextUnit() * 2 - 1 }
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
                rs_grouped_matmul(&job, 1, ids, first, counts, Int64(sizes.count), x, Int64(cols), Int64(cols))
            }
        }
        var worst = 0.0
        for (g, size) in sizes.enumerated() {
            let e = Int(ids[g])
            for i in Int(first[g]) ..< Int(first[g]) + size {
                for r in 0 ..< rows {
                    var s = accumulate ? Double(start[i * rows + r]) : 0, scale = 1.0
                    for k in 0 ..< cols {
                        let p = Double(deq[e][r * cols + k]) * Double(x[i * cols + k])
                        s += p
                        scale += abs(p)
                    }
                    worst = max(worst, abs(s - Double(y[i * rows + r])) / scale)
                }
            }
        }
        #expect(worst < 1e-6, "\(type): relative error \(worst)")
    }
}
