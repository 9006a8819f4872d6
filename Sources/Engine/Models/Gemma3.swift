import Kernels

/// Hyperparameters of a Gemma 3 GGUF (`general.architecture = gemma3`).
public struct Gemma3Config: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffnSize: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var ropeBase: Double
    /// Sliding-window layers use their own, shorter RoPE base (10 000 in every Gemma 3).
    public var localRopeBase: Double
    /// Linear RoPE scaling of the global layers (1 for the small models).
    public var ropeScale: Double
    public var slidingWindow: Int
    /// Every `globalEvery`-th layer attends globally; the others use the sliding window.
    public var globalEvery: Int
    public var rmsEps: Float
    public var queryScale: Float

    init(gguf f: GGUFFile) throws(ModelFileError) {
        let a = "gemma3"
        hiddenSize = try f.int("\(a).embedding_length")
        layers = try f.int("\(a).block_count")
        heads = try f.int("\(a).attention.head_count")
        kvHeads = (try? f.int("\(a).attention.head_count_kv")) ?? heads
        headDim = (try? f.int("\(a).attention.key_length")) ?? hiddenSize / max(heads, 1)
        ffnSize = try f.int("\(a).feed_forward_length")
        contextLength = (try? f.int("\(a).context_length")) ?? 32768
        ropeBase = Double((try? f.float("\(a).rope.freq_base")) ?? 1_000_000)
        localRopeBase = 10_000
        ropeScale = Double((try? f.float("\(a).rope.scaling.factor")) ?? 1)
        slidingWindow = (try? f.int("\(a).attention.sliding_window")) ?? 512
        globalEvery = 6
        rmsEps = try f.float("\(a).attention.layer_norm_rms_epsilon")
        // llama.cpp: 1/sqrt(head_dim), i.e. query_pre_attn_scalar = head_dim, for all but 27B.
        queryScale = 1 / Float(headDim).squareRoot()
        let embd = try f.tensor("token_embd.weight")
        vocabSize = embd.shape.count == 2 ? embd.shape[1] : 0
        guard hiddenSize > 0, layers > 0, heads > 0, kvHeads > 0, heads % kvHeads == 0, headDim > 0,
              headDim % 2 == 0, ffnSize > 0, vocabSize > 0, ropeScale > 0
        else { throw .badHeader(path: f.path, reason: "inconsistent gemma3 hyperparameters") }
    }

    func isGlobal(layer: Int) -> Bool { (layer + 1) % globalEvery == 0 }
}

/// Gemma 3 (text): scaled embeddings, QK-norm, sandwich norms around attention and the FFN,
/// GELU-tanh gating, and 5 sliding-window layers for every global one.
///
/// GGUF conversion already folds Gemma's `1 + w` into the stored norm weights, and Q/K rows
/// are not permuted, so RoPE is the NeoX pairing.
public final class Gemma3Model: LanguageModel, @unchecked Sendable {
    // The workspace is used only by the thread running `forward`.
    struct Layer {
        let attnNorm, qNorm, kNorm, postAttnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: WeightMatrix
        let ffnNorm, postFfnNorm: UnsafePointer<Float>
        let gate, up, down: WeightMatrix
    }

    public let config: Gemma3Config
    public let info: ModelInfo
    let file: GGUFFile
    let weights: GGUFWeights
    let embedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let layers: [Layer]
    let globalRope: RoPE
    let localRope: RoPE

    private let x = FloatBuffer(count: 0), h = FloatBuffer(count: 0), o = FloatBuffer(count: 0)
    private let q = FloatBuffer(count: 0), k = FloatBuffer(count: 0), v = FloatBuffer(count: 0)
    private let attn = FloatBuffer(count: 0), gate = FloatBuffer(count: 0), up = FloatBuffer(count: 0)
    private let globalTable = FloatBuffer(count: 0), localTable = FloatBuffer(count: 0)
    private let logitIn = FloatBuffer(count: 0), logits = FloatBuffer(count: 0)
    private var globalPlan = AttentionPlan(), localPlan = AttentionPlan()

    public init(gguf f: GGUFFile) throws(ModelFileError) {
        let c = try Gemma3Config(gguf: f)
        config = c
        file = f
        var w = GGUFWeights(f)
        let d = c.hiddenSize, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim
        embedding = try w.matrix("token_embd.weight", rows: c.vocabSize, cols: d)
        output = try w.optionalMatrix("output.weight", rows: c.vocabSize, cols: d) ?? embedding
        outputNorm = try w.vector("output_norm.weight", count: d)
        var ls: [Layer] = []
        for i in 0 ..< c.layers {
            let p = "blk.\(i)."
            ls.append(Layer(
                attnNorm: try w.vector(p + "attn_norm.weight", count: d),
                qNorm: try w.vector(p + "attn_q_norm.weight", count: c.headDim),
                kNorm: try w.vector(p + "attn_k_norm.weight", count: c.headDim),
                postAttnNorm: try w.vector(p + "post_attention_norm.weight", count: d),
                wq: try w.matrix(p + "attn_q.weight", rows: qd, cols: d),
                wk: try w.matrix(p + "attn_k.weight", rows: kvd, cols: d),
                wv: try w.matrix(p + "attn_v.weight", rows: kvd, cols: d),
                wo: try w.matrix(p + "attn_output.weight", rows: d, cols: qd),
                ffnNorm: try w.vector(p + "ffn_norm.weight", count: d),
                postFfnNorm: try w.vector(p + "post_ffw_norm.weight", count: d),
                gate: try w.matrix(p + "ffn_gate.weight", rows: c.ffnSize, cols: d),
                up: try w.matrix(p + "ffn_up.weight", rows: c.ffnSize, cols: d),
                down: try w.matrix(p + "ffn_down.weight", rows: d, cols: c.ffnSize)))
        }
        layers = ls
        weights = w
        globalRope = RoPE(style: .neox, dims: c.headDim, base: c.ropeBase, scale: c.ropeScale)
        localRope = RoPE(style: .neox, dims: c.headDim, base: c.localRopeBase)
        let params = f.tensors.values.reduce(0) { $0 + $1.elementCount }
        let bytes = f.tensors.values.reduce(0) { $0 + $1.byteCount }
        info = ModelInfo(
            architecture: "gemma3", name: (try? f.string("general.name")) ?? "gemma3", vocabSize: c.vocabSize,
            contextLength: c.contextLength, layers: c.layers, kvDim: kvd, parameterCount: params, weightBytes: bytes)
    }

    public func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits {
        let c = config, n = batch.tokenCount
        let d = c.hiddenSize, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim, ff = c.ffnSize
        x.reserve(n * d); h.reserve(n * d); o.reserve(n * d); q.reserve(n * qd); k.reserve(n * kvd)
        v.reserve(n * kvd); attn.reserve(n * qd); gate.reserve(n * ff); up.reserve(n * ff)
        globalTable.reserve(n * c.headDim); localTable.reserve(n * c.headDim)
        let X = x.pointer, H = h.pointer, O = o.pointer, Q = q.pointer, K = k.pointer, V = v.pointer
        let A = attn.pointer, G = gate.pointer, U = up.pointer

        Blocks.embed(batch.tokens, table: embedding, scale: Float(d).squareRoot(), into: X)
        batch.positions.withUnsafeBufferPointer {
            globalRope.fillTable(positions: $0.baseAddress!, count: n, table: globalTable.pointer)
            localRope.fillTable(positions: $0.baseAddress!, count: n, table: localTable.pointer)
        }
        globalPlan.build(batch, window: nil)
        localPlan.build(batch, window: c.slidingWindow)

        for (li, L) in layers.enumerated() {
            let global = c.isGlobal(layer: li)
            let table = global ? globalTable.pointer : localTable.pointer
            let rope = global ? globalRope : localRope
            H.update(from: X, count: n * d)
            Blocks.rmsNorm(H, rows: n, dim: d, weight: L.attnNorm, eps: c.rmsEps)
            matmul(H, ldx: d, tokens: n, cols: d, L.wq.job(into: Q, ldy: qd), L.wk.job(into: K, ldy: kvd), L.wv.job(into: V, ldy: kvd))
            Blocks.rmsNorm(Q, rows: n * c.heads, dim: c.headDim, weight: L.qNorm, eps: c.rmsEps)
            Blocks.rmsNorm(K, rows: n * c.kvHeads, dim: c.headDim, weight: L.kNorm, eps: c.rmsEps)
            rope.apply(Q, ld: qd, count: n, heads: c.heads, headDim: c.headDim, table: table)
            rope.apply(K, ld: kvd, count: n, heads: c.kvHeads, headDim: c.headDim, table: table)
            Blocks.storeKV(k: K, v: V, batch: batch, cache: cache, layer: li)
            (global ? globalPlan : localPlan).run(
                q: Q, ldq: qd, out: A, ldo: qd, batch: batch, cache: cache, layer: li,
                heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: c.queryScale)
            matmul(A, ldx: qd, tokens: n, cols: qd, L.wo.job(into: O, ldy: d))
            Blocks.rmsNorm(O, rows: n, dim: d, weight: L.postAttnNorm, eps: c.rmsEps)
            Blocks.add(O, into: X, count: n * d)

            H.update(from: X, count: n * d)
            Blocks.rmsNorm(H, rows: n, dim: d, weight: L.ffnNorm, eps: c.rmsEps)
            matmul(H, ldx: d, tokens: n, cols: d, L.gate.job(into: G, ldy: ff), L.up.job(into: U, ldy: ff))
            rs_gelu_tanh_mul(G, U, G, Int64(n * ff))
            matmul(G, ldx: ff, tokens: n, cols: ff, L.down.job(into: O, ldy: d))
            Blocks.rmsNorm(O, rows: n, dim: d, weight: L.postFfnNorm, eps: c.rmsEps)
            Blocks.add(O, into: X, count: n * d)
        }

        let rows = batch.logitRowCount
        logitIn.reserve(rows * d)
        logits.reserve(rows * c.vocabSize)
        let m = Blocks.gatherLogitRows(batch, x: X, dim: d, into: logitIn.pointer)
        Blocks.rmsNorm(logitIn.pointer, rows: m, dim: d, weight: outputNorm, eps: c.rmsEps)
        matmul(logitIn.pointer, ldx: d, tokens: m, cols: d, output.job(into: logits.pointer, ldy: c.vocabSize))
        return Logits(pointer: logits.pointer, rows: m, vocabSize: c.vocabSize)
    }
}
