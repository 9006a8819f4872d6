/// Qwen3 (dense): llama-shaped, with per-head RMSNorm on Q and K before full NeoX RoPE
/// (MODELS.md 5). `Qwen3MoE.swift` adds routed experts on top of the same layers.
struct Qwen3Config: Codable, Sendable {
    var hiddenSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    var intermediateSize: Int
    var rmsNormEps: Float?
    var ropeTheta: Double?
    var maxPositionEmbeddings: Int?
    var vocabSize: Int
    var tieWordEmbeddings: Bool?
    // Qwen3-MoE
    var numExperts: Int?
    var numExpertsPerTok: Int?
    var moeIntermediateSize: Int?
    var normTopkProb: Bool?
    var decoderSparseStep: Int?
    var mlpOnlyLayers: [Int]?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", intermediateSize = "intermediate_size"
        case rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta", maxPositionEmbeddings = "max_position_embeddings"
        case vocabSize = "vocab_size", tieWordEmbeddings = "tie_word_embeddings", numExperts = "num_experts"
        case numExpertsPerTok = "num_experts_per_tok", moeIntermediateSize = "moe_intermediate_size"
        case normTopkProb = "norm_topk_prob", decoderSparseStep = "decoder_sparse_step", mlpOnlyLayers = "mlp_only_layers"
    }

    init(gguf f: GGUFFile, arch a: String) throws(ModelFileError) {
        hiddenSize = try f.int("\(a).embedding_length")
        numHiddenLayers = try f.int("\(a).block_count")
        numAttentionHeads = try f.int("\(a).attention.head_count")
        numKeyValueHeads = try? f.int("\(a).attention.head_count_kv")
        headDim = try? f.int("\(a).attention.key_length")
        intermediateSize = (try? f.int("\(a).feed_forward_length")) ?? 0
        rmsNormEps = try? f.float("\(a).attention.layer_norm_rms_epsilon")
        ropeTheta = (try? f.float("\(a).rope.freq_base")).map(Double.init)
        maxPositionEmbeddings = try? f.int("\(a).context_length")
        let embd = try f.tensor("token_embd.weight")
        vocabSize = embd.shape.count == 2 ? embd.shape[1] : 0
        tieWordEmbeddings = f.tensors["output.weight"] == nil
        numExperts = try? f.int("\(a).expert_count")
        numExpertsPerTok = try? f.int("\(a).expert_used_count")
        moeIntermediateSize = try? f.int("\(a).expert_feed_forward_length")
        normTopkProb = f.bool("\(a).expert_weights_norm")
    }

    var kvHeads: Int { numKeyValueHeads ?? numAttentionHeads }
    var resolvedHeadDim: Int { headDim ?? hiddenSize / numAttentionHeads }
    var eps: Float { rmsNormEps ?? 1e-6 }

    /// Whether layer `i` routes to experts (transformers' rule).
    func isSparse(_ i: Int) -> Bool {
        guard let e = numExperts, e > 0 else { return false }
        let step = decoderSparseStep ?? 1
        return !(mlpOnlyLayers ?? []).contains(i) && step > 0 && (i + 1) % step == 0
    }

    func validate(path: String) throws(ModelFileError) {
        guard hiddenSize > 0, numHiddenLayers > 0, numAttentionHeads > 0, kvHeads > 0, numAttentionHeads % kvHeads == 0,
              resolvedHeadDim > 0, resolvedHeadDim % 2 == 0, vocabSize > 0
        else { throw .badHeader(path: path, reason: "inconsistent Qwen3 hyperparameters") }
        if let e = numExperts, e > 0 {
            guard let k = numExpertsPerTok, k > 0, k <= e, (moeIntermediateSize ?? 0) > 0 else {
                throw .badHeader(path: path, reason: "inconsistent Qwen3-MoE expert settings")
            }
        }
    }
}

enum Qwen3 {
    struct Names {
        let hf: Bool
        func global(_ hfName: String, _ ggufName: String) -> String { hf ? hfName : ggufName }
        func layer(_ i: Int, _ hfName: String, _ ggufName: String) -> String {
            hf ? "model.layers.\(i).\(hfName)" : "blk.\(i).\(ggufName)"
        }
    }

    /// Builds the decoder; `ffn` makes layer i's feed-forward part (dense here, experts in
    /// Qwen3-MoE).
    static func build<W: WeightSource>(
        _ c: Qwen3Config, weights w: inout W, names n: Names, architecture: String, size: (params: Int, bytes: Int),
        ffn: (inout W, Int) throws(ModelFileError) -> FeedForward
    ) throws(ModelFileError) -> DecoderModel {
        try c.validate(path: w.path)
        let d = c.hiddenSize, hd = c.resolvedHeadDim
        let shape = AttentionShape(heads: c.numAttentionHeads, kvHeads: c.kvHeads, headDim: hd,
                                   rope: RoPE(style: .neox, dims: hd, base: c.ropeTheta ?? 1_000_000), normEps: c.eps)
        let embedding = try w.matrix(n.global("model.embed_tokens.weight", "token_embd.weight"), rows: c.vocabSize, cols: d)
        let outName = n.global("lm_head.weight", "output.weight")
        let output = (c.tieWordEmbeddings ?? false) || !w.has(outName) ? embedding : try w.matrix(outName, rows: c.vocabSize, cols: d)
        var layers: [DecoderLayer] = []
        for i in 0 ..< c.numHiddenLayers {
            let attention = AttentionWeights(
                projection: .separate(
                    q: try w.matrix(n.layer(i, "self_attn.q_proj.weight", "attn_q.weight"), rows: shape.qDim, cols: d),
                    k: try w.matrix(n.layer(i, "self_attn.k_proj.weight", "attn_k.weight"), rows: shape.kvDim, cols: d),
                    v: try w.matrix(n.layer(i, "self_attn.v_proj.weight", "attn_v.weight"), rows: shape.kvDim, cols: d)),
                qNorm: try w.vector(n.layer(i, "self_attn.q_norm.weight", "attn_q_norm.weight"), count: hd),
                kNorm: try w.vector(n.layer(i, "self_attn.k_norm.weight", "attn_k_norm.weight"), count: hd),
                output: try w.matrix(n.layer(i, "self_attn.o_proj.weight", "attn_output.weight"), rows: d, cols: shape.qDim))
            layers.append(DecoderLayer(
                attnNorm: try w.vector(n.layer(i, "input_layernorm.weight", "attn_norm.weight"), count: d),
                attention: attention,
                ffnNorm: try w.vector(n.layer(i, "post_attention_layernorm.weight", "ffn_norm.weight"), count: d),
                ffn: try ffn(&w, i)))
        }
        let outputNorm = try w.vector(n.global("model.norm.weight", "output_norm.weight"), count: d)
        let moe = (c.numExperts ?? 0) > 0
        let info = ModelInfo(architecture: architecture, name: architecture, vocabSize: c.vocabSize,
                             contextLength: c.maxPositionEmbeddings ?? 4096, layers: c.numHiddenLayers, kvDim: shape.kvDim,
                             parameterCount: size.params, weightBytes: size.bytes,
                             expertLayers: moe ? c.numHiddenLayers : 0, experts: c.numExperts ?? 0)
        return DecoderModel(info: info, shape: shape, embedding: embedding, output: output, outputNorm: outputNorm,
                            layers: layers, normEps: c.eps, owner: w)
    }

    static func denseFFN<W: WeightSource>(_ c: Qwen3Config, _ n: Names) -> (inout W, Int) throws(ModelFileError) -> FeedForward {
        { w, i throws(ModelFileError) in
            let d = c.hiddenSize, f = c.intermediateSize
            return .dense(MLP(
                gate: try w.matrix(n.layer(i, "mlp.gate_proj.weight", "ffn_gate.weight"), rows: f, cols: d),
                up: try w.matrix(n.layer(i, "mlp.up_proj.weight", "ffn_up.weight"), rows: f, cols: d),
                down: try w.matrix(n.layer(i, "mlp.down_proj.weight", "ffn_down.weight"), rows: d, cols: f)))
        }
    }

    static func load(hf directory: String, quantization: LoadQuantization? = nil) throws(ModelFileError) -> DecoderModel {
        let c = try HFConfig.load(Qwen3Config.self, directory: directory)
        let st = try SafetensorsModel(directory: directory)
        var w = SafetensorsWeights(st, quantization: quantization)
        let n = Names(hf: true)
        return try build(c, weights: &w, names: n, architecture: "qwen3", size: (st.parameterCount, st.byteCount), ffn: denseFFN(c, n))
    }

    static func load(gguf f: GGUFFile) throws(ModelFileError) -> DecoderModel {
        let c = try Qwen3Config(gguf: f, arch: "qwen3")
        var w = GGUFWeights(f)
        let n = Names(hf: false)
        return try build(c, weights: &w, names: n, architecture: "qwen3", size: f.sizes, ffn: denseFFN(c, n))
    }
}
