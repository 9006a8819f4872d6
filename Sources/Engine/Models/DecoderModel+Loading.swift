/// Where a checkpoint keeps each tensor of a decoder with separate Q, K and V projections;
/// nil: the architecture has no such tensor. llama.cpp's GGUF conversion uses one set of
/// names for every architecture (`gguf`); Hugging Face checkpoints name them per architecture.
struct DecoderTensorNames {
    var embedTokens = "token_embd.weight"
    var lmHead = "output.weight"
    var norm = "output_norm.weight"
    var layerPrefix = "blk."
    var inputLayernorm = "attn_norm.weight"
    var qProj = "attn_q.weight", kProj = "attn_k.weight", vProj = "attn_v.weight", oProj = "attn_output.weight"
    var qNorm: String? = nil, kNorm: String? = nil
    var postAttentionLayernorm: String? = nil
    var preFeedforwardLayernorm = "ffn_norm.weight"
    var postFeedforwardLayernorm: String? = nil
    var gateProj = "ffn_gate.weight", upProj = "ffn_up.weight", downProj = "ffn_down.weight"

    func layer(_ i: Int, _ name: String) -> String { "\(layerPrefix)\(i).\(name)" }

    /// llama.cpp's names, with the QK norms and Gemma's sandwich norms where the
    /// architecture has them.
    static func gguf(qkNorm: Bool = false, sandwichNorms: Bool = false) -> Self {
        var n = Self()
        if qkNorm { (n.qNorm, n.kNorm) = ("attn_q_norm.weight", "attn_k_norm.weight") }
        if sandwichNorms { (n.postAttentionLayernorm, n.postFeedforwardLayernorm) = ("post_attention_norm.weight", "post_ffw_norm.weight") }
        return n
    }
}

/// What the builder needs besides the config and the tensors.
struct DecoderSpec {
    var architecture: String
    var name: String
    var size: (params: Int, bytes: Int)
    var shape: AttentionShape
    /// Layer i's rotary embedding and sliding window (nil: attends to every position).
    var attention: (Int) -> (rope: RoPE, window: Int?)
    var embeddingScale: Float = 1
    var activation = MLP.Activation.silu
    var experts = 0

    /// One RoPE for every layer, no window.
    init<K>(_ c: ArchitectureConfig<K>, architecture: String, name: String? = nil, size: (params: Int, bytes: Int), rope: RoPE,
            queryScale: Float? = nil) {
        self.architecture = architecture
        self.name = name ?? architecture
        self.size = size
        shape = AttentionShape(heads: c.numAttentionHeads, kvHeads: c.kvHeads, headDim: c.resolvedHeadDim, queryScale: queryScale)
        attention = { _ in (rope, nil) }
    }
}

extension DecoderModel {
    /// Builds the decoder `c` describes from the tensors `names` lists. `ffn` makes layer i's
    /// feed-forward block; by default the dense MLP of `names`.
    static func load<K, W: WeightSource>(
        _ c: ArchitectureConfig<K>, _ s: DecoderSpec, weights w: inout W, names n: DecoderTensorNames,
        ffn: ((inout W, Int) throws(ModelFileError) -> FeedForward)? = nil
    ) throws(ModelFileError) -> DecoderModel {
        let d = c.hiddenSize, shape = s.shape, hd = shape.headDim
        let embedding = try w.matrix(n.embedTokens, rows: c.vocabSize, cols: d)
        let output = c.tiesEmbeddings || !w.has(n.lmHead) ? embedding : try w.matrix(n.lmHead, rows: c.vocabSize, cols: d)
        var layers: [DecoderLayer] = []
        for i in 0 ..< c.numHiddenLayers {
            let attention = AttentionWeights(
                projection: .separate(
                    q: try w.matrix(n.layer(i, n.qProj), rows: shape.qDim, cols: d),
                    k: try w.matrix(n.layer(i, n.kProj), rows: shape.kvDim, cols: d),
                    v: try w.matrix(n.layer(i, n.vProj), rows: shape.kvDim, cols: d)),
                qNorm: try w.optionalVector(n.qNorm.map { n.layer(i, $0) }, count: hd),
                kNorm: try w.optionalVector(n.kNorm.map { n.layer(i, $0) }, count: hd),
                output: try w.matrix(n.layer(i, n.oProj), rows: d, cols: shape.qDim))
            let feedForward: FeedForward
            if let ffn {
                feedForward = try ffn(&w, i)
            } else {
                feedForward = .dense(try denseMLP(&w, layer: i, names: n, hidden: d, inter: c.intermediateSize, activation: s.activation))
            }
            let (rope, window) = s.attention(i)
            layers.append(DecoderLayer(
                attnNorm: try w.vector(n.layer(i, n.inputLayernorm), count: d),
                attention: attention,
                postAttnNorm: try w.optionalVector(n.postAttentionLayernorm.map { n.layer(i, $0) }, count: d),
                ffnNorm: try w.vector(n.layer(i, n.preFeedforwardLayernorm), count: d),
                ffn: feedForward,
                postFfnNorm: try w.optionalVector(n.postFeedforwardLayernorm.map { n.layer(i, $0) }, count: d),
                rope: rope, window: window))
        }
        let outputNorm = try w.vector(n.norm, count: d)
        let info = ModelInfo(architecture: s.architecture, name: s.name, vocabSize: c.vocabSize, contextLength: c.contextLength,
                             layers: c.numHiddenLayers, kvDim: shape.kvDim, parameterCount: s.size.params, weightBytes: s.size.bytes,
                             expertLayers: s.experts > 0 ? c.numHiddenLayers : 0, experts: s.experts)
        return DecoderModel(info: info, shape: shape, embedding: embedding, embeddingScale: s.embeddingScale, output: output,
                            outputNorm: outputNorm, layers: layers, normEps: c.eps, owner: w)
    }

    /// Layer i's dense feed-forward block.
    static func denseMLP<W: WeightSource>(_ w: inout W, layer i: Int, names n: DecoderTensorNames, hidden d: Int, inter f: Int,
                                          activation: MLP.Activation = .silu) throws(ModelFileError) -> MLP {
        MLP(gate: try w.matrix(n.layer(i, n.gateProj), rows: f, cols: d),
            up: try w.matrix(n.layer(i, n.upProj), rows: f, cols: d),
            down: try w.matrix(n.layer(i, n.downProj), rows: d, cols: f),
            activation: activation)
    }
}
