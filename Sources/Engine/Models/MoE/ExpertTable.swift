import Kernels

/// Every expert's gate, up and down matrices as pointer tables for `rs_grouped_matmul`, which
/// runs all of a step's experts in two parallel regions instead of two per expert.
final class ExpertTable: @unchecked Sendable {
    // Immutable after init; the pointers point into the model's weights, which outlive it.
    private let gate, up, down: UnsafeMutablePointer<UnsafeRawPointer?>
    private let template: MLP

    /// nil unless every expert has one type and shape that the grouped kernel computes, in the
    /// stored layout (it reads rows `rowBytes` apart), and the SiLU gate it applies.
    init?(_ experts: [MLP]) {
        guard let t = experts.first else { return nil }
        let same = experts.allSatisfy {
            $0.gate.type == t.gate.type && $0.up.type == t.up.type && $0.down.type == t.down.type
                && $0.inter == t.inter && $0.gate.cols == t.gate.cols && $0.down.cols == t.down.cols && $0.activation == .silu
                && !$0.gate.interleaved && !$0.up.interleaved && !$0.down.interleaved
        }
        guard same, rs_grouped_supported(Int32(t.gate.type.rawValue), Int64(t.gate.cols)) != 0,
              rs_grouped_supported(Int32(t.up.type.rawValue), Int64(t.up.cols)) != 0,
              rs_grouped_supported(Int32(t.down.type.rawValue), Int64(t.down.cols)) != 0 else { return nil }
        template = t
        gate = .allocate(capacity: experts.count)
        up = .allocate(capacity: experts.count)
        down = .allocate(capacity: experts.count)
        for (i, ex) in experts.enumerated() {
            gate[i] = ex.gate.data
            up[i] = ex.up.data
            down[i] = ex.down.data
        }
    }

    deinit {
        gate.deallocate()
        up.deallocate()
        down.deallocate()
    }

    private func job(_ table: UnsafeMutablePointer<UnsafeRawPointer?>, _ m: WeightMatrix, into y: UnsafeMutablePointer<Float>, ldy: Int) -> rs_grouped_job {
        rs_grouped_job(type: Int32(m.type.rawValue), w: UnsafePointer(table), row_bytes: Int64(m.rowBytes), rows: Int64(m.rows),
                       y: y, ldy: Int64(ldy), accumulate: 0)
    }

    /// ys = experts(xs) for `pairs` rows sorted by expert: group i is rows first[i] ..< first[i] + count[i].
    func run(_ xs: UnsafePointer<Float>, pairs: Int, hidden d: Int, experts: [Int32], first: [Int64], count: [Int64],
             groups: Int, into ys: UnsafeMutablePointer<Float>, g: FloatBuffer, u: FloatBuffer) {
        let f = template.inter
        g.reserve(pairs * f)
        u.reserve(pairs * f)
        experts.withUnsafeBufferPointer { ids in
            first.withUnsafeBufferPointer { fs in
                count.withUnsafeBufferPointer { cs in
                    var gateUp = (job(gate, template.gate, into: g.pointer, ldy: f), job(up, template.up, into: u.pointer, ldy: f))
                    withUnsafePointer(to: &gateUp) {
                        $0.withMemoryRebound(to: rs_grouped_job.self, capacity: 2) {
                            rs_grouped_matmul($0, 2, ids.baseAddress, fs.baseAddress, cs.baseAddress, Int64(groups), xs, Int64(d), Int64(d))
                        }
                    }
                    rs_silu_mul(g.pointer, u.pointer, g.pointer, Int64(pairs * f))
                    var downJob = job(down, template.down, into: ys, ldy: d)
                    rs_grouped_matmul(&downJob, 1, ids.baseAddress, fs.baseAddress, cs.baseAddress, Int64(groups), g.pointer, Int64(f), Int64(f))
                }
            }
        }
    }
}
