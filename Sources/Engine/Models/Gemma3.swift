/// Gemma 3 (text), read from GGUF (`general.architecture = gemma3`): embeddings scaled by
/// sqrt(hidden size), QK norm, sandwich norms around attention and the feed-forward block,
/// GELU-tanh gating, and `sliding_window_pattern - 1` sliding-window layers (with their own
/// RoPE base) for every global one.
///
/// GGUF conversion already folds Gemma's `1 + w` into the stored norm weights, and Q/K rows
/// are not permuted, so RoPE is the NeoX pairing.
struct Gemma3Keys: ArchitectureKeys {
    struct RopeScaling: Codable, Sendable {
        /// Linear position scaling of the global layers.
        var factor: Double?
    }

    /// The sliding-window layers' RoPE base (10 000 in every Gemma 3; GGUF does not store it).
    var ropeLocalBaseFreq: Double?
    var ropeScaling: RopeScaling?
    var slidingWindow: Int?
    /// Every `slidingWindowPattern`-th layer attends globally (6; GGUF does not store it).
    var slidingWindowPattern: Int?
    /// Scores are scaled by 1/sqrt(this); head_dim when absent (all but the 27B model).
    var queryPreAttnScalar: Double?

    enum CodingKeys: String, CodingKey {
        case ropeLocalBaseFreq = "rope_local_base_freq", ropeScaling = "rope_scaling", slidingWindow = "sliding_window"
        case slidingWindowPattern = "sliding_window_pattern", queryPreAttnScalar = "query_pre_attn_scalar"
    }

    static let defaultContextLength = 32768

    func isGlobal(layer: Int) -> Bool { (layer + 1) % (slidingWindowPattern ?? 6) == 0 }
}

typealias Gemma3Config = ArchitectureConfig<Gemma3Keys>

enum Gemma3 {
    static func load(gguf f: GGUFFile) throws(ModelFileError) -> DecoderModel {
        let c = try GGUFConfig.load(Gemma3Config.self, gguf: f, arch: "gemma3")
        try c.decoder.validate(path: f.path, name: "gemma3")
        let hd = c.resolvedHeadDim, ropeScale = c.ropeScaling?.factor ?? 1, window = c.slidingWindow ?? 512
        guard ropeScale > 0, (c.slidingWindowPattern ?? 6) > 0, window > 0 else {
            throw .badHeader(path: f.path, reason: "inconsistent gemma3 hyperparameters")
        }
        let global = RoPE(style: .neox, dims: hd, base: c.ropeTheta ?? 1_000_000, scale: ropeScale)
        let local = RoPE(style: .neox, dims: hd, base: c.ropeLocalBaseFreq ?? 10000)
        var spec = DecoderSpec(c, architecture: "gemma3", name: (try? f.string("general.name")) ?? "gemma3", size: f.sizes,
                               rope: global, queryScale: c.queryPreAttnScalar.map { 1 / Float($0).squareRoot() })
        spec.attention = { i in c.keys.isGlobal(layer: i) ? (global, nil) : (local, window) }
        spec.embeddingScale = Float(c.hiddenSize).squareRoot()
        spec.activation = .geluTanh
        var w = GGUFWeights(f)
        return try DecoderModel.load(c, spec, weights: &w, names: .gguf(qkNorm: true, sandwichNorms: true))
    }
}
