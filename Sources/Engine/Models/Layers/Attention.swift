/// The weights of one attention block, in either of the layouts checkpoints use.
struct AttentionWeights {
    enum Projection {
        case separate(q: WeightMatrix, k: WeightMatrix, v: WeightMatrix)
        /// One matrix whose rows are q | k | v (BailingMoeV2's `query_key_value`).
        case fused(WeightMatrix)
    }

    let projection: Projection
    /// Per-head RMSNorm over head_dim, before RoPE (Qwen3, BailingMoeV2).
    let qNorm: UnsafePointer<Float>?
    let kNorm: UnsafePointer<Float>?
    let output: WeightMatrix
}

/// Head counts and rotary embedding shared by every layer of a model.
struct AttentionShape {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let rope: RoPE
    let normEps: Float

    var qDim: Int { heads * headDim }
    var kvDim: Int { kvHeads * headDim }
}
