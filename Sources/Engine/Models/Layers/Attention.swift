/// The weights of one attention block, in either of the layouts checkpoints use.
struct AttentionWeights {
    enum Projection {
        case separate(q: WeightMatrix, k: WeightMatrix, v: WeightMatrix)
        /// One matrix whose rows are q | k | v (BailingMoeV2's `query_key_value`).
        case fused(WeightMatrix)
    }

    let projection: Projection
    /// Per-head RMSNorm over head_dim, before RoPE (Qwen3, Gemma 3, BailingMoeV2).
    let qNorm: UnsafePointer<Float>?
    let kNorm: UnsafePointer<Float>?
    let output: WeightMatrix
}

/// Head counts shared by every layer of a model.
struct AttentionShape {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    /// Attention scores are q.k times this.
    let queryScale: Float

    /// `queryScale` defaults to 1/sqrt(head_dim); Gemma's `query_pre_attn_scalar` may set another.
    init(heads: Int, kvHeads: Int, headDim: Int, queryScale: Float? = nil) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.queryScale = queryScale ?? 1 / Float(headDim).squareRoot()
    }

    var qDim: Int { heads * headDim }
    var kvDim: Int { kvHeads * headDim }
}
