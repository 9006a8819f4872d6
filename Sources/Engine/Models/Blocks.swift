import Kernels

/// Pieces every decoder-only transformer here shares: embedding lookup, KV writes, the
/// final norm and the LM head over just the rows that need logits.
enum Blocks {
    /// x[t] = embedding[tokens[t]] * scale.
    static func embed(_ tokens: [Int32], table: WeightMatrix, scale: Float, into x: UnsafeMutablePointer<Float>) {
        let d = table.cols
        for (t, id) in tokens.enumerated() {
            let row = x + t * d
            // Ids are validated when requests enter the engine; this keeps a bad one from
            // reading outside the table all the same.
            guard id >= 0, Int(id) < table.rows else {
                row.update(repeating: 0, count: d)
                continue
            }
            table.dequantizeRow(Int(id), into: row)
            if scale != 1 { for i in 0 ..< d { row[i] *= scale } }
        }
    }

    /// Copies the batch's new K and V rows into their slots of layer `layer` (rounded to halves
    /// in a half cache).
    static func storeKV(k: UnsafePointer<Float>, v: UnsafePointer<Float>, batch: ForwardBatch, cache: KVCache, layer: Int) {
        let dim = cache.kvDim
        for (t, slot) in batch.outSlots.enumerated() {
            cache.store(k: k + t * dim, v: v + t * dim, slot: slot, layer: layer)
        }
    }

    /// Copies the hidden rows that produce logits (each sequence's last token, or all of its
    /// tokens when it asked) to the front of `out`; returns how many.
    static func gatherLogitRows(_ batch: ForwardBatch, x: UnsafePointer<Float>, dim: Int, into out: UnsafeMutablePointer<Float>) -> Int {
        var n = 0
        for s in batch.sequences {
            let first = s.allLogits ? s.tokenStart : s.tokenStart + s.tokenCount - 1
            for t in first ..< s.tokenStart + s.tokenCount {
                (out + n * dim).update(from: x + t * dim, count: dim)
                n += 1
            }
        }
        return n
    }

    static func rmsNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, ld: Int? = nil, weight: UnsafePointer<Float>?, eps: Float) {
        rs_rmsnorm(x, Int64(rows), Int64(dim), Int64(ld ?? dim), weight, eps, 0)
    }

    /// dst = src, row by row (src and dst may have different strides).
    static func copyRows(_ src: UnsafePointer<Float>, ldSrc: Int, to dst: UnsafeMutablePointer<Float>, ldDst: Int, rows: Int, cols: Int) {
        for r in 0 ..< rows { (dst + r * ldDst).update(from: src + r * ldSrc, count: cols) }
    }

    static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0 ..< count { dst[i] += src[i] }
    }
}
