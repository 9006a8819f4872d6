import Engine
import Foundation
import Kernels
import Testing

/// The attention kernel's tree mask against a dense reference: random draft trees over a
/// cached prefix at scattered slots, each node attending to the prefix, its ancestors and itself
/// only; a plain causal sequence shares the batch. Small trees over a long prefix take the
/// split-key path, large ones the one-task-per-head path; every kernel path this CPU runs.
@Suite("tree attention mask")
struct TreeAttentionTests {
    static let cases: [(nodes: Int, prefix: Int, window: Int, hd: Int, seed: UInt64)] = [
        (2, 900, 0, 64, 1), (5, 300, 0, 64, 2), (8, 40, 0, 64, 3), (16, 200, 0, 64, 4), (64, 120, 0, 64, 5),
        (7, 0, 0, 64, 6), (9, 600, 256, 64, 7), (12, 70, 0, 32, 8), (6, 500, 0, 128, 9), (10, 90, 0, 96, 10),
    ]

    @Test(arguments: ForcedISA.allCases.filter(\.runsHere), Array(cases.indices))
    func matchesDenseReference(isa: ForcedISA, index: Int) {
        let c = Self.cases[index]
        isa.run { Self.check(nodes: c.nodes, prefix: c.prefix, window: c.window, hd: c.hd, seed: c.seed) }
    }

    /// A chain is a tree too: its masks are exactly the causal ones.
    @Test func chainMasksAreCausal() {
        let table = [Int32](0 ..< 64)
        table.withUnsafeBufferPointer { tp in
            var batch = ForwardBatch(slotTable: tp.baseAddress!)
            batch.appendTree(tokens: [1, 2, 3, 4], parents: [-1, 0, 1, 2], rootPosition: 10, slotRow: 0)
            #expect(batch.treeMasks == [0b1, 0b11, 0b111, 0b1111])
            #expect(batch.positions == [10, 11, 12, 13])
        }
    }

    @Test func branchesGetDepthPositionsAndAncestorMasks() {
        let table = [Int32](0 ..< 64)
        table.withUnsafeBufferPointer { tp in
            var batch = ForwardBatch(slotTable: tp.baseAddress!)
            batch.append(tokens: [7, 7], startPosition: 3, slotRow: 32)
            //        0
            //      1   2
            //      3     4
            //      5
            batch.appendTree(tokens: [10, 11, 12, 13, 14, 15], parents: [-1, 0, 0, 1, 2, 3], rootPosition: 20, slotRow: 0)
            #expect(batch.positions == [3, 4, 20, 21, 21, 22, 22, 23])
            #expect(batch.outSlots == [35, 36, 20, 21, 22, 23, 24, 25])
            #expect(batch.treeMasks == [0, 0, 0b1, 0b11, 0b101, 0b1011, 0b10101, 0b101011])
            #expect(batch.logitRowCount == 1 + 6)
            #expect(batch.sequences[1].kvLength == 26 && batch.sequences[1].tree)
        }
    }

    static func check(nodes: Int, prefix: Int, window: Int, hd: Int, seed: UInt64) {
        let heads = 6, kvHeads = 2, slotsTotal = 2048, plainTokens = 3, plainContext = 150
        var rng = SeededGenerator(seed: seed)
        let rand = { (n: Int) in (0 ..< n).map { _ in rng.nextUnit() * 2 - 1 } }
        let k = rand(slotsTotal * kvHeads * hd), v = rand(slotsTotal * kvHeads * hd)
        // Two sequences at scattered slots: the tree's (prefix, then one row position per node)
        // and a plain one whose last `plainTokens` positions are queries.
        var perm = Array(Int32(0) ..< Int32(slotsTotal))
        perm.shuffle(using: &rng)
        let treeRow = Array(perm.prefix(prefix + nodes))
        let plainRow = Array(perm.dropFirst(prefix + nodes).prefix(plainContext))
        let slots = treeRow + plainRow
        var parents = [-1]
        for i in 1 ..< nodes { parents.append(Int(rng.next() % UInt64(i))) }
        var ancestors: [[Int]] = [[0]]
        for i in 1 ..< nodes { ancestors.append(ancestors[parents[i]] + [i]) }
        let depth = ancestors.map { $0.count - 1 }
        let n = nodes + plainTokens
        let q = rand(n * heads * hd).map { $0 * 3 }
        var offsets: [Int32] = [], begins: [Int32] = [], ends: [Int32] = [], masks: [UInt64] = []
        for i in 0 ..< nodes {
            let pos = prefix + depth[i]
            offsets.append(0)
            ends.append(Int32(prefix))
            begins.append(Int32(window > 0 ? max(0, pos + 1 - window) : 0))
            masks.append(ancestors[i].reduce(0) { $0 | (1 << UInt64($1)) })
        }
        for t in 0 ..< plainTokens {
            let pos = plainContext - plainTokens + t
            offsets.append(Int32(treeRow.count))
            ends.append(Int32(pos + 1))
            begins.append(Int32(window > 0 ? max(0, pos + 1 - window) : 0))
            masks.append(0)
        }
        var out = [Float](repeating: .nan, count: n * heads * hd)
        let scale = 1 / Float(hd).squareRoot()
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in
            slots.withUnsafeBufferPointer { sp in offsets.withUnsafeBufferPointer { op in
                begins.withUnsafeBufferPointer { bp in ends.withUnsafeBufferPointer { ep in masks.withUnsafeBufferPointer { mp in
                    out.withUnsafeMutableBufferPointer { outp in
                        var args = rs_attention_args(
                            q: qp.baseAddress, ldq: Int64(heads * hd), out: outp.baseAddress, ldo: Int64(heads * hd),
                            k_cache: kp.baseAddress, v_cache: vp.baseAddress, kv_stride: Int64(kvHeads * hd),
                            slots: sp.baseAddress, tok_slot_off: op.baseAddress, tok_kv_begin: bp.baseAddress,
                            tok_kv_end: ep.baseAddress, n_tokens: Int32(n), n_head: Int32(heads), n_kv: Int32(kvHeads),
                            head_dim: Int32(hd), scale: scale, softcap: 0, tok_tree_mask: mp.baseAddress, kv_f16: 0)
                        rs_attention(&args)
                    }
                } } }
            } }
        } } }
        // The reference: each query's visible slots listed out, one plain softmax over them.
        var worst = 0.0
        for t in 0 ..< n {
            let visible: [Int32] = t < nodes
                ? Array(treeRow[Int(begins[t]) ..< prefix]) + ancestors[t].map { treeRow[prefix + $0] }
                : Array(plainRow[Int(begins[t]) ..< Int(ends[t])])
            for h in 0 ..< heads {
                let g = h / (heads / kvHeads)
                let scores = visible.map { slot -> Double in
                    let base = Int(slot) * kvHeads * hd + g * hd
                    return (0 ..< hd).reduce(0.0) { $0 + Double(q[t * heads * hd + h * hd + $1]) * Double(k[base + $1]) } * Double(scale)
                }
                let mx = scores.max()!
                let w = scores.map { Foundation.exp($0 - mx) }
                let sum = w.reduce(0, +)
                for x in 0 ..< hd {
                    var o = 0.0
                    for (i, slot) in visible.enumerated() { o += w[i] * Double(v[Int(slot) * kvHeads * hd + g * hd + x]) }
                    worst = max(worst, abs(o / sum - Double(out[t * heads * hd + h * hd + x])))
                }
            }
        }
        #expect(worst < 2e-5, "\(nodes) nodes over \(prefix) keys, window \(window), head \(hd), isa \(rs_isa()): max abs error \(worst)")
    }
}
