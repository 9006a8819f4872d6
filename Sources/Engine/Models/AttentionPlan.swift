import Kernels

/// Per-token attention bounds for one batch: where each token's sequence keeps its slots and
/// which cached positions it may see (causal, optionally a sliding window). Built once per
/// batch and shared by every layer with the same window; storage is reused across batches.
struct AttentionPlan {
    var slotOffsets: [Int32] = []
    var begin: [Int32] = []
    var end: [Int32] = []
    /// The batch's tree masks (tokens of a draft tree see the positions before the root, up to
    /// `end`, and the ones their mask names); empty when no sequence is a tree.
    var treeMasks: [UInt64] = []

    mutating func build(_ batch: ForwardBatch, window: Int?) {
        slotOffsets.removeAll(keepingCapacity: true)
        begin.removeAll(keepingCapacity: true)
        end.removeAll(keepingCapacity: true)
        for s in batch.sequences {
            let root = s.kvLength - s.tokenCount
            for i in 0 ..< s.tokenCount {
                // A tree node's position is its depth past the root, not its row position.
                let pos = s.tree ? Int(batch.positions[s.tokenStart + i]) : root + i
                slotOffsets.append(Int32(s.slotRow))
                end.append(Int32(s.tree ? root : pos + 1))
                begin.append(Int32(window.map { max(0, pos + 1 - $0) } ?? 0))
            }
        }
        treeMasks.removeAll(keepingCapacity: true)
        treeMasks.append(contentsOf: batch.treeMasks)
    }

    /// Runs attention for all tokens of the batch against layer `layer` of the cache.
    func run(q: UnsafePointer<Float>, ldq: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
             batch: ForwardBatch, cache: KVCache, layer: Int, heads: Int, kvHeads: Int, headDim: Int,
             scale: Float, softcap: Float = 0) {
        slotOffsets.withUnsafeBufferPointer { off in
            begin.withUnsafeBufferPointer { b in
                end.withUnsafeBufferPointer { e in
                    treeMasks.withUnsafeBufferPointer { masks in
                        var args = rs_attention_args(
                            q: q, ldq: Int64(ldq), out: out, ldo: Int64(ldo),
                            k_cache: cache.rawKeys(layer: layer), v_cache: cache.rawValues(layer: layer),
                            kv_stride: Int64(cache.kvDim), slots: batch.slotTable,
                            tok_slot_off: off.baseAddress, tok_kv_begin: b.baseAddress, tok_kv_end: e.baseAddress,
                            n_tokens: Int32(batch.tokenCount), n_head: Int32(heads), n_kv: Int32(kvHeads),
                            head_dim: Int32(headDim), scale: scale, softcap: softcap,
                            tok_tree_mask: masks.isEmpty ? nil : masks.baseAddress,
                            kv_f16: cache.precision == .float16 ? 1 : 0)
                        rs_attention(&args)
                    }
                }
            }
        }
    }
}
