/// inclusionAI's Ling and Ring 2.0 (`BailingMoeV2ForCausalLM`, GGUF `bailingmoe2`), and the
/// tiny-ring model this project trains in the same format (MODELS.md 4).
///
/// Fused query_key_value, per-head QK RMSNorm, partial NeoX RoPE, the first
/// `first_k_dense_replace` layers dense, the rest sigmoid-routed experts with a selection-only
/// bias, group-limited top-k, renormalised weights times `routed_scaling_factor`, and shared
/// experts added with weight one.
struct BailingMoeV2Config: Codable, Sendable {
    var hiddenSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int
    var headDim: Int?
    var intermediateSize: Int
    var firstKDenseReplace: Int = 1
    var numExperts: Int
    var numExpertsPerTok: Int
    var numSharedExperts: Int = 0
    var moeIntermediateSize: Int
    var moeSharedExpertIntermediateSize: Int?
    var nGroup: Int = 1
    var topkGroup: Int = 1
    var routedScalingFactor: Float = 1
    var normTopkProb: Bool = true
    var scoreFunction: String = "sigmoid"
    var partialRotaryFactor: Double = 1
    var ropeTheta: Double = 10000
    var maxPositionEmbeddings: Int = 4096
    var rmsNormEps: Float = 1e-6
    var vocabSize: Int
    var tieWordEmbeddings: Bool = false
    var useQkNorm: Bool = true
    /// MTP layers after the last decoder layer (`model.layers.{num_hidden_layers}`, ...); the
    /// first one is loaded as the draft layer.
    var numNextnPredictLayers = 0

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", intermediateSize = "intermediate_size"
        case firstKDenseReplace = "first_k_dense_replace", numExperts = "num_experts", numExpertsPerTok = "num_experts_per_tok"
        case numSharedExperts = "num_shared_experts", moeIntermediateSize = "moe_intermediate_size"
        case moeSharedExpertIntermediateSize = "moe_shared_expert_intermediate_size", nGroup = "n_group", topkGroup = "topk_group"
        case routedScalingFactor = "routed_scaling_factor", normTopkProb = "norm_topk_prob", scoreFunction = "score_function"
        case partialRotaryFactor = "partial_rotary_factor", ropeTheta = "rope_theta"
        case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps", vocabSize = "vocab_size"
        case tieWordEmbeddings = "tie_word_embeddings", useQkNorm = "use_qk_norm"
        case numNextnPredictLayers = "num_nextn_predict_layers"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        firstKDenseReplace = try c.decodeIfPresent(Int.self, forKey: .firstKDenseReplace) ?? 1
        numExperts = try c.decode(Int.self, forKey: .numExperts)
        numExpertsPerTok = try c.decode(Int.self, forKey: .numExpertsPerTok)
        numSharedExperts = try c.decodeIfPresent(Int.self, forKey: .numSharedExperts) ?? 0
        moeIntermediateSize = try c.decode(Int.self, forKey: .moeIntermediateSize)
        moeSharedExpertIntermediateSize = try c.decodeIfPresent(Int.self, forKey: .moeSharedExpertIntermediateSize)
        nGroup = try c.decodeIfPresent(Int.self, forKey: .nGroup) ?? 1
        topkGroup = try c.decodeIfPresent(Int.self, forKey: .topkGroup) ?? 1
        routedScalingFactor = try c.decodeIfPresent(Float.self, forKey: .routedScalingFactor) ?? 1
        normTopkProb = try c.decodeIfPresent(Bool.self, forKey: .normTopkProb) ?? true
        scoreFunction = try c.decodeIfPresent(String.self, forKey: .scoreFunction) ?? "sigmoid"
        partialRotaryFactor = try c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor) ?? 1
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 4096
        rmsNormEps = try c.decodeIfPresent(Float.self, forKey: .rmsNormEps) ?? 1e-6
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        useQkNorm = try c.decodeIfPresent(Bool.self, forKey: .useQkNorm) ?? true
        numNextnPredictLayers = try c.decodeIfPresent(Int.self, forKey: .numNextnPredictLayers) ?? 0
    }

    /// From GGUF metadata, with what only this architecture's conversion writes.
    init(gguf f: GGUFFile) throws(ModelFileError) {
        let a = "bailingmoe2"
        self = try GGUFConfig.load(Self.self, gguf: f, arch: a) { json in
            json["score_function"] = ((try? f.int("\(a).expert_gating_func")) ?? 2) == 1 ? "softmax" : "sigmoid"
            if let dims = json["rope_dimension_count"] as? Int {
                let hd = json["head_dim"] as? Int ?? (json["hidden_size"] as? Int ?? 0) / max(json["num_attention_heads"] as? Int ?? 1, 1)
                json["partial_rotary_factor"] = Double(dims) / Double(max(hd, 1))
            }
            json["use_qk_norm"] = f.tensors["blk.0.attn_q_norm.weight"] != nil
            // llama.cpp counts the MTP layers in block_count (they follow the decoder's).
            if let k = try? f.int("\(a).nextn_predict_layers"), k > 0, let blocks = json["num_hidden_layers"] as? Int {
                json["num_nextn_predict_layers"] = k
                json["num_hidden_layers"] = blocks - k
            }
        }
    }

    var resolvedHeadDim: Int { headDim ?? hiddenSize / numAttentionHeads }
    var ropeDims: Int { Int(Double(resolvedHeadDim) * partialRotaryFactor) }
    var sharedInter: Int { moeSharedExpertIntermediateSize ?? moeIntermediateSize * numSharedExperts }

    func validate(path: String) throws(ModelFileError) {
        guard hiddenSize > 0, numHiddenLayers > 0, numAttentionHeads > 0, numKeyValueHeads > 0,
              numAttentionHeads % numKeyValueHeads == 0, resolvedHeadDim > 0, ropeDims % 2 == 0, ropeDims <= resolvedHeadDim,
              numExperts > 0, numExpertsPerTok > 0, numExpertsPerTok <= numExperts, nGroup > 0, numExperts % nGroup == 0,
              topkGroup > 0, topkGroup <= nGroup, vocabSize > 0, firstKDenseReplace >= 0, numNextnPredictLayers >= 0
        else { throw .badHeader(path: path, reason: "inconsistent BailingMoeV2 hyperparameters") }
        guard scoreFunction == "sigmoid" else {
            throw .badHeader(path: path, reason: "BailingMoeV2 with score_function '\(scoreFunction)' is not supported (sigmoid is)")
        }
    }
}

enum BailingMoeV2 {
    /// Tensor names as Hugging Face checkpoints and llama.cpp's GGUF conversion write them.
    struct Names {
        let hf: Bool
        func embed() -> String { hf ? "model.word_embeddings.weight" : "token_embd.weight" }
        func output() -> String { hf ? "lm_head.weight" : "output.weight" }
        func outputNorm() -> String { hf ? "model.norm.weight" : "output_norm.weight" }
        func layer(_ i: Int, _ hfName: String, _ ggufName: String) -> String {
            hf ? "model.layers.\(i).\(hfName)" : "blk.\(i).\(ggufName)"
        }
    }

    static func load(hf directory: String, quantization: LoadQuantization? = nil) throws(ModelFileError) -> DecoderModel {
        let c = try HFConfig.load(BailingMoeV2Config.self, directory: directory)
        let st = try SafetensorsModel(directory: directory)
        var w = SafetensorsWeights(st, quantization: quantization)
        return try build(c, weights: &w, names: Names(hf: true), size: (st.parameterCount, st.byteCount), experts: { w, i, e, rows, cols, kind throws(ModelFileError) in
            try w.matrix("model.layers.\(i).mlp.experts.\(e).\(kind).weight", rows: rows, cols: cols)
        })
    }

    static func load(gguf f: GGUFFile) throws(ModelFileError) -> DecoderModel {
        let c = try BailingMoeV2Config(gguf: f)
        var w = GGUFWeights(f)
        var stacked: [String: [WeightMatrix]] = [:]
        return try build(c, weights: &w, names: Names(hf: false), size: f.sizes, experts: { w, i, e, rows, cols, kind throws(ModelFileError) in
            let name = "blk.\(i).ffn_\(kind.replacingOccurrences(of: "_proj", with: ""))_exps.weight"
            if stacked[name] == nil { stacked[name] = try w.experts(name, count: c.numExperts, rows: rows, cols: cols) }
            return stacked[name]![e]
        })
    }

    private static func build<W: WeightSource>(
        _ c: BailingMoeV2Config, weights w: inout W, names n: Names, size: (params: Int, bytes: Int),
        experts expertMatrix: (inout W, Int, Int, Int, Int, String) throws(ModelFileError) -> WeightMatrix
    ) throws(ModelFileError) -> DecoderModel {
        try c.validate(path: w.path)
        let d = c.hiddenSize, hd = c.resolvedHeadDim
        let shape = AttentionShape(heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, headDim: hd)
        let rope = RoPE(style: .neox, dims: c.ropeDims, base: c.ropeTheta)
        let embedding = try w.matrix(n.embed(), rows: c.vocabSize, cols: d)
        let output = c.tieWordEmbeddings ? embedding : try w.matrix(n.output(), rows: c.vocabSize, cols: d)
        /// Decoder block i: layers 0 ..< L, and the MTP layer's block at L (MoE or dense as its
        /// index implies).
        func block(_ i: Int) throws(ModelFileError) -> DecoderLayer {
            let qkvRows = shape.qDim + 2 * shape.kvDim
            let attention = AttentionWeights(
                projection: .fused(try w.matrix(n.layer(i, "attention.query_key_value.weight", "attn_qkv.weight"), rows: qkvRows, cols: d)),
                qNorm: c.useQkNorm ? try w.vector(n.layer(i, "attention.query_layernorm.weight", "attn_q_norm.weight"), count: hd) : nil,
                kNorm: c.useQkNorm ? try w.vector(n.layer(i, "attention.key_layernorm.weight", "attn_k_norm.weight"), count: hd) : nil,
                output: try w.matrix(n.layer(i, "attention.dense.weight", "attn_output.weight"), rows: d, cols: shape.qDim))
            let ffn: FeedForward
            if i < c.firstKDenseReplace {
                let f = c.intermediateSize
                ffn = .dense(MLP(
                    gate: try w.matrix(n.layer(i, "mlp.gate_proj.weight", "ffn_gate.weight"), rows: f, cols: d),
                    up: try w.matrix(n.layer(i, "mlp.up_proj.weight", "ffn_up.weight"), rows: f, cols: d),
                    down: try w.matrix(n.layer(i, "mlp.down_proj.weight", "ffn_down.weight"), rows: d, cols: f)))
            } else {
                let f = c.moeIntermediateSize
                var experts: [MLP] = []
                for e in 0 ..< c.numExperts {
                    experts.append(MLP(gate: try expertMatrix(&w, i, e, f, d, "gate_proj"),
                                          up: try expertMatrix(&w, i, e, f, d, "up_proj"),
                                          down: try expertMatrix(&w, i, e, d, f, "down_proj")))
                }
                var shared: MLP?
                if c.numSharedExperts > 0 {
                    let s = c.sharedInter
                    shared = MLP(
                        gate: try w.matrix(n.layer(i, "mlp.shared_experts.gate_proj.weight", "ffn_gate_shexp.weight"), rows: s, cols: d),
                        up: try w.matrix(n.layer(i, "mlp.shared_experts.up_proj.weight", "ffn_up_shexp.weight"), rows: s, cols: d),
                        down: try w.matrix(n.layer(i, "mlp.shared_experts.down_proj.weight", "ffn_down_shexp.weight"), rows: d, cols: s))
                }
                let gate = try w.floatMatrix(n.layer(i, "mlp.gate.weight", "ffn_gate_inp.weight"), rows: c.numExperts, cols: d)
                let biasName = n.layer(i, "mlp.gate.expert_bias", "exp_probs_b.bias")
                let bias = w.has(biasName) ? try w.vector(biasName, count: c.numExperts) : nil
                let router = Router(kind: .sigmoidGrouped(groups: c.nGroup, topkGroups: c.topkGroup, normalize: c.normTopkProb,
                                                          scaling: c.routedScalingFactor),
                                    experts: c.numExperts, topK: c.numExpertsPerTok, bias: bias)
                ffn = .moe(MoELayer(router: router, routerWeight: WeightMatrix(type: .f32, data: gate, rows: c.numExperts, cols: d),
                                    experts: experts, shared: shared, hidden: d))
            }
            return DecoderLayer(
                attnNorm: try w.vector(n.layer(i, "input_layernorm.weight", "attn_norm.weight"), count: d),
                attention: attention,
                ffnNorm: try w.vector(n.layer(i, "post_attention_layernorm.weight", "ffn_norm.weight"), count: d),
                ffn: ffn,
                rope: rope)
        }
        var layers: [DecoderLayer] = []
        for i in 0 ..< c.numHiddenLayers { layers.append(try block(i)) }
        // The MTP draft layer, when the checkpoint keeps it (a config may announce one whose
        // tensors were left out; such a model loads without it).
        var nextn: NextNLayer?
        let L = c.numHiddenLayers
        if c.numNextnPredictLayers > 0, w.has(n.layer(L, "eh_proj.weight", "nextn.eh_proj.weight")) {
            nextn = NextNLayer(
                enorm: try w.vector(n.layer(L, "enorm.weight", "nextn.enorm.weight"), count: d),
                hnorm: try w.vector(n.layer(L, "hnorm.weight", "nextn.hnorm.weight"), count: d),
                ehProj: try w.matrix(n.layer(L, "eh_proj.weight", "nextn.eh_proj.weight"), rows: d, cols: 2 * d),
                block: try block(L),
                finalNorm: try w.vector(n.layer(L, "final_layernorm.weight", "layer_output_norm.weight"), count: d))
        }
        let outputNorm = try w.vector(n.outputNorm(), count: d)
        let info = ModelInfo(architecture: "bailingmoe2", name: "BailingMoeV2", vocabSize: c.vocabSize,
                             contextLength: c.maxPositionEmbeddings, layers: c.numHiddenLayers, kvDim: shape.kvDim,
                             parameterCount: size.params, weightBytes: size.bytes,
                             expertLayers: c.numHiddenLayers, experts: c.numExperts)
        return DecoderModel(info: info, shape: shape, embedding: embedding, output: output, outputNorm: outputNorm,
                            layers: layers, nextn: nextn, normEps: c.rmsNormEps, owner: w)
    }
}
