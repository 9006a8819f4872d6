import Engine
import Kernels
import Testing

/// Paged attention against a plain double-precision softmax(q k / sqrt(d)) v, over scattered
/// slots, grouped-query heads and sliding windows; few tokens exercise the split-key
/// (flash-decoding) path and its merge, many tokens the one-task-per-head path. Head dims 32, 64
/// and 128 take the register-tiled kernel, 96 the general one. A half cache (`f16`) is checked
/// against the reference over the values it holds (each rounded to binary16).
@Suite("paged attention kernel")
struct AttentionKernelTests {
    @Test(arguments: [(1, 300, 0, 64), (2, 700, 100, 64), (3, 40, 0, 64), (24, 200, 0, 64), (5, 1000, 512, 64),
                      (1, 333, 0, 32), (3, 700, 0, 128), (24, 90, 0, 128), (2, 500, 100, 96), (7, 13, 0, 32)])
    func matchesReference(tokens: Int, context: Int, window: Int, hd: Int) throws {
        try Self.check(tokens: tokens, context: context, window: window, hd: hd, softcap: 0)
    }

    @Test("a half cache", arguments: [(1, 300, 0, 64), (24, 200, 0, 64), (3, 700, 0, 128), (5, 700, 512, 256), (2, 500, 100, 96)])
    func halfCache(tokens: Int, context: Int, window: Int, hd: Int) throws {
        try Self.check(tokens: tokens, context: context, window: window, hd: hd, softcap: 0, f16: true)
    }

    /// One case on the calling thread's kernel path (`ForcedISA.run` picks it).
    static func check(tokens: Int, context: Int, window: Int, hd: Int, softcap: Float, f16: Bool = false) throws {
        let heads = 6, kvHeads = 2, slotsTotal = 2048
        var rng = SeededGenerator(seed: UInt64(tokens * 1000 + context + hd * 100_000))
        let rand = { (n: Int) in (0 ..< n).map { _ in rng.nextUnit() * 2 - 1 } }
        var k = rand(slotsTotal * kvHeads * hd), v = rand(slotsTotal * kvHeads * hd)
        // The half cache's bits, and the values they stand for (what the reference sees).
        let kh = k.map(rs_fp32_to_fp16), vh = v.map(rs_fp32_to_fp16)
        if f16 {
            k = kh.map(rs_fp16_to_fp32)
            v = vh.map(rs_fp16_to_fp32)
        }
        let q = rand(tokens * heads * hd).map { $0 * 3 }
        // One sequence whose positions live at scattered slots; the last `tokens` positions
        // are the queries.
        var slots = Array(Int32(0) ..< Int32(slotsTotal))
        slots.shuffle(using: &rng)
        slots = Array(slots.prefix(context))
        let ends = (0 ..< tokens).map { Int32(context - tokens + $0 + 1) }
        let begins = ends.map { window > 0 ? max(0, $0 - Int32(window)) : 0 }
        let offsets = [Int32](repeating: 0, count: tokens)
        var out = [Float](repeating: .nan, count: tokens * heads * hd)
        let scale = 1 / Float(hd).squareRoot()
        let kRaw = f16 ? kh.withUnsafeBytes { Array($0) } : k.withUnsafeBytes { Array($0) }
        let vRaw = f16 ? vh.withUnsafeBytes { Array($0) } : v.withUnsafeBytes { Array($0) }
        q.withUnsafeBufferPointer { qp in kRaw.withUnsafeBytes { kp in vRaw.withUnsafeBytes { vp in
            slots.withUnsafeBufferPointer { sp in offsets.withUnsafeBufferPointer { op in
                begins.withUnsafeBufferPointer { bp in ends.withUnsafeBufferPointer { ep in
                    out.withUnsafeMutableBufferPointer { outp in
                        var args = rs_attention_args(
                            q: qp.baseAddress, ldq: Int64(heads * hd), out: outp.baseAddress, ldo: Int64(heads * hd),
                            k_cache: kp.baseAddress, v_cache: vp.baseAddress, kv_stride: Int64(kvHeads * hd),
                            slots: sp.baseAddress, tok_slot_off: op.baseAddress, tok_kv_begin: bp.baseAddress,
                            tok_kv_end: ep.baseAddress, n_tokens: Int32(tokens), n_head: Int32(heads), n_kv: Int32(kvHeads),
                            head_dim: Int32(hd), scale: scale, softcap: softcap, tok_tree_mask: nil, kv_f16: f16 ? 1 : 0)
                        rs_attention(&args)
                    }
                } }
            } }
        } } }
        var worst = 0.0
        for t in 0 ..< tokens {
            for h in 0 ..< heads {
                let g = h / (heads / kvHeads)
                let keys = Int(begins[t]) ..< Int(ends[t])
                let scores = keys.map { p -> Double in
                    let base = Int(slots[p]) * kvHeads * hd + g * hd
                    let s = (0 ..< hd).reduce(0.0) { $0 + Double(q[t * heads * hd + h * hd + $1]) * Double(k[base + $1]) } * Double(scale)
                    return softcap > 0 ? Double(softcap) * Foundation.tanh(s / Double(softcap)) : s
                }
                let mx = scores.max()!
                let w = scores.map { Foundation.exp($0 - mx) }
                let sum = w.reduce(0, +)
                for x in 0 ..< hd {
                    var o = 0.0
                    for (i, p) in keys.enumerated() { o += w[i] * Double(v[Int(slots[p]) * kvHeads * hd + g * hd + x]) }
                    worst = max(worst, abs(o / sum - Double(out[t * heads * hd + h * hd + x])))
                }
            }
        }
        #expect(worst < 2e-5, "\(tokens) tokens, \(context) keys, window \(window), head \(hd), f16 \(f16), isa \(rs_isa()): max abs error \(worst)")
    }
}

import Foundation
