/// Qwen3 (dense): llama-shaped, with per-head RMSNorm on Q and K before full NeoX RoPE
/// (MODELS.md 5). `Qwen3MoE.swift` adds routed experts on top of the same layers.
struct Qwen3Keys: ArchitectureKeys {
    // Qwen3-MoE
    var numExperts: Int?
    var numExpertsPerTok: Int?
    var moeIntermediateSize: Int?
    var normTopkProb: Bool?
    var decoderSparseStep: Int?
    var mlpOnlyLayers: [Int]?

    enum CodingKeys: String, CodingKey {
        case numExperts = "num_experts", numExpertsPerTok = "num_experts_per_tok", moeIntermediateSize = "moe_intermediate_size"
        case normTopkProb = "norm_topk_prob", decoderSparseStep = "decoder_sparse_step", mlpOnlyLayers = "mlp_only_layers"
    }

    static let defaultContextLength = 4096

    /// Whether layer `i` routes to experts (transformers' rule).
    func isSparse(_ i: Int) -> Bool {
        guard let e = numExperts, e > 0 else { return false }
        let step = decoderSparseStep ?? 1
        return !(mlpOnlyLayers ?? []).contains(i) && step > 0 && (i + 1) % step == 0
    }
}

typealias Qwen3Config = ArchitectureConfig<Qwen3Keys>

extension Qwen3Config where Keys == Qwen3Keys {
    /// From GGUF metadata; a MoE conversion may leave out the dense width.
    init(gguf f: GGUFFile, arch: String) throws(ModelFileError) {
        self = try GGUFConfig.load(Qwen3Config.self, gguf: f, arch: arch) { json in
            if json["intermediate_size"] == nil { json["intermediate_size"] = 0 }
        }
    }

    func validate(path: String) throws(ModelFileError) {
        try decoder.validate(path: path, name: "Qwen3")
        if let e = self.numExperts, e > 0 {
            guard let k = self.numExpertsPerTok, k > 0, k <= e, (self.moeIntermediateSize ?? 0) > 0 else {
                throw .badHeader(path: path, reason: "inconsistent Qwen3-MoE expert settings")
            }
        }
    }
}

enum Qwen3 {
    /// Hugging Face's tensor names for Qwen3 and Qwen3-MoE.
    static let hfNames = DecoderTensorNames(
        embedTokens: "model.embed_tokens.weight", lmHead: "lm_head.weight", norm: "model.norm.weight", layerPrefix: "model.layers.",
        inputLayernorm: "input_layernorm.weight", qProj: "self_attn.q_proj.weight", kProj: "self_attn.k_proj.weight",
        vProj: "self_attn.v_proj.weight", oProj: "self_attn.o_proj.weight", qNorm: "self_attn.q_norm.weight",
        kNorm: "self_attn.k_norm.weight", preFeedforwardLayernorm: "post_attention_layernorm.weight",
        gateProj: "mlp.gate_proj.weight", upProj: "mlp.up_proj.weight", downProj: "mlp.down_proj.weight")
    static let ggufNames = DecoderTensorNames.gguf(qkNorm: true)

    /// Builds the decoder; `ffn` makes layer i's feed-forward block (experts in Qwen3-MoE).
    static func build<W: WeightSource>(
        _ c: Qwen3Config, weights w: inout W, hf: Bool, architecture: String, size: (params: Int, bytes: Int),
        ffn: ((inout W, Int) throws(ModelFileError) -> FeedForward)? = nil
    ) throws(ModelFileError) -> DecoderModel {
        try c.validate(path: w.path)
        var spec = DecoderSpec(c, architecture: architecture, size: size,
                               rope: RoPE(style: .neox, dims: c.resolvedHeadDim, base: c.ropeTheta ?? 1_000_000))
        spec.experts = c.numExperts ?? 0
        return try DecoderModel.load(c, spec, weights: &w, names: hf ? hfNames : ggufNames, ffn: ffn)
    }

    static func load(hf directory: String, quantization: LoadQuantization? = nil) throws(ModelFileError) -> DecoderModel {
        let c = try HFConfig.load(Qwen3Config.self, directory: directory)
        let st = try SafetensorsModel(directory: directory)
        var w = SafetensorsWeights(st, quantization: quantization)
        return try build(c, weights: &w, hf: true, architecture: "qwen3", size: (st.parameterCount, st.byteCount))
    }

    static func load(gguf f: GGUFFile) throws(ModelFileError) -> DecoderModel {
        let c = try Qwen3Config(gguf: f, arch: "qwen3")
        var w = GGUFWeights(f)
        return try build(c, weights: &w, hf: false, architecture: "qwen3", size: f.sizes)
    }
}
