/// Qwen3-MoE: Qwen3's attention with softmax-routed experts (no shared expert, no bias, no
/// scaling; `norm_topk_prob` renormalises the top-k weights) on the sparse layers.
enum Qwen3MoE {
    static func load(hf directory: String, quantization: LoadQuantization? = nil) throws(ModelFileError) -> DecoderModel {
        let c = try HFConfig.load(Qwen3Config.self, directory: directory)
        let st = try SafetensorsModel(directory: directory)
        var w = SafetensorsWeights(st, quantization: quantization)
        return try Qwen3.build(c, weights: &w, hf: true, architecture: "qwen3moe", size: (st.parameterCount, st.byteCount)) { w, i throws(ModelFileError) in
            guard c.keys.isSparse(i) else { return .dense(try DecoderModel.denseMLP(&w, layer: i, names: Qwen3.hfNames, hidden: c.hiddenSize, inter: c.intermediateSize)) }
            let d = c.hiddenSize, f = c.moeIntermediateSize ?? 0, e = c.numExperts ?? 0
            var experts: [MLP] = []
            for x in 0 ..< e {
                let p = "model.layers.\(i).mlp.experts.\(x)."
                experts.append(MLP(gate: try w.matrix(p + "gate_proj.weight", rows: f, cols: d),
                                   up: try w.matrix(p + "up_proj.weight", rows: f, cols: d),
                                   down: try w.matrix(p + "down_proj.weight", rows: d, cols: f)))
            }
            return try moe(c, experts: experts, gate: try w.floatMatrix("model.layers.\(i).mlp.gate.weight", rows: e, cols: d))
        }
    }

    static func load(gguf f: GGUFFile) throws(ModelFileError) -> DecoderModel {
        var c = try Qwen3Config(gguf: f, arch: "qwen3moe")
        c.normTopkProb = c.normTopkProb ?? true
        var w = GGUFWeights(f)
        return try Qwen3.build(c, weights: &w, hf: false, architecture: "qwen3moe", size: f.sizes) { w, i throws(ModelFileError) in
            let d = c.hiddenSize, ff = c.moeIntermediateSize ?? 0, e = c.numExperts ?? 0
            let gates = try w.experts("blk.\(i).ffn_gate_exps.weight", count: e, rows: ff, cols: d)
            let ups = try w.experts("blk.\(i).ffn_up_exps.weight", count: e, rows: ff, cols: d)
            let downs = try w.experts("blk.\(i).ffn_down_exps.weight", count: e, rows: d, cols: ff)
            let experts = (0 ..< e).map { MLP(gate: gates[$0], up: ups[$0], down: downs[$0]) }
            return try moe(c, experts: experts, gate: try w.floatMatrix("blk.\(i).ffn_gate_inp.weight", rows: e, cols: d))
        }
    }

    private static func moe(_ c: Qwen3Config, experts: [MLP], gate: UnsafePointer<Float>) throws(ModelFileError) -> FeedForward {
        let e = experts.count, d = c.hiddenSize
        let router = Router(kind: .softmax(normalize: c.normTopkProb ?? false), experts: e, topK: c.numExpertsPerTok ?? 1, bias: nil)
        return .moe(MoELayer(router: router, routerWeight: WeightMatrix(type: .f32, data: gate, rows: e, cols: d),
                             experts: experts, shared: nil, hidden: d))
    }
}
