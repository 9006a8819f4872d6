import Kernels

/// Hyperparameters of a llama-architecture GGUF (`general.architecture = llama`).
public struct LlamaConfig: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffnSize: Int
    public var vocabSize: Int
    public var contextLength: Int
    public var ropeBase: Double
    public var ropeDims: Int
    public var rmsEps: Float

    init(gguf f: GGUFFile) throws(ModelFileError) {
        let a = "llama"
        hiddenSize = try f.int("\(a).embedding_length")
        layers = try f.int("\(a).block_count")
        heads = try f.int("\(a).attention.head_count")
        kvHeads = (try? f.int("\(a).attention.head_count_kv")) ?? heads
        headDim = (try? f.int("\(a).attention.key_length")) ?? hiddenSize / max(heads, 1)
        ffnSize = try f.int("\(a).feed_forward_length")
        contextLength = (try? f.int("\(a).context_length")) ?? 2048
        ropeBase = Double((try? f.float("\(a).rope.freq_base")) ?? 10000)
        ropeDims = (try? f.int("\(a).rope.dimension_count")) ?? headDim
        rmsEps = try f.float("\(a).attention.layer_norm_rms_epsilon")
        let embd = try f.tensor("token_embd.weight")
        vocabSize = embd.shape.count == 2 ? embd.shape[1] : 0
        guard hiddenSize > 0, layers > 0, heads > 0, kvHeads > 0, heads % kvHeads == 0, headDim > 0,
              headDim % 2 == 0, ropeDims <= headDim, ffnSize > 0, vocabSize > 0
        else { throw .badHeader(path: f.path, reason: "inconsistent llama hyperparameters") }
    }
}

/// The llama architecture (SmolLM2, Llama 2/3 and their GGUF conversions).
///
/// GGUF llama files store Q and K rows permuted for adjacent-pair RoPE, so this model uses
/// `.interleaved` rotation on the rows as stored (MODELS.md 3.2).
public final class LlamaModel: LanguageModel, @unchecked Sendable {
    // The workspace is used only by the thread running `forward`.
    struct Layer {
        let attnNorm: UnsafePointer<Float>
        let wq, wk, wv, wo: WeightMatrix
        let ffnNorm: UnsafePointer<Float>
        let gate, up, down: WeightMatrix
    }

    public let config: LlamaConfig
    public let info: ModelInfo
    let file: GGUFFile
    let weights: GGUFWeights
    let embedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let layers: [Layer]
    let rope: RoPE

    private let x = FloatBuffer(count: 0), h = FloatBuffer(count: 0)
    private let q = FloatBuffer(count: 0), k = FloatBuffer(count: 0), v = FloatBuffer(count: 0)
    private let attn = FloatBuffer(count: 0), gate = FloatBuffer(count: 0), up = FloatBuffer(count: 0)
    private let ropeTable = FloatBuffer(count: 0), logitIn = FloatBuffer(count: 0), logits = FloatBuffer(count: 0)
    private var plan = AttentionPlan()

    public init(gguf f: GGUFFile) throws(ModelFileError) {
        let c = try LlamaConfig(gguf: f)
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
                wq: try w.matrix(p + "attn_q.weight", rows: qd, cols: d),
                wk: try w.matrix(p + "attn_k.weight", rows: kvd, cols: d),
                wv: try w.matrix(p + "attn_v.weight", rows: kvd, cols: d),
                wo: try w.matrix(p + "attn_output.weight", rows: d, cols: qd),
                ffnNorm: try w.vector(p + "ffn_norm.weight", count: d),
                gate: try w.matrix(p + "ffn_gate.weight", rows: c.ffnSize, cols: d),
                up: try w.matrix(p + "ffn_up.weight", rows: c.ffnSize, cols: d),
                down: try w.matrix(p + "ffn_down.weight", rows: d, cols: c.ffnSize)))
        }
        layers = ls
        weights = w
        rope = RoPE(style: .interleaved, dims: c.ropeDims, base: c.ropeBase)
        let params = f.tensors.values.reduce(0) { $0 + $1.elementCount }
        let bytes = f.tensors.values.reduce(0) { $0 + $1.byteCount }
        info = ModelInfo(
            architecture: "llama", name: (try? f.string("general.name")) ?? "llama", vocabSize: c.vocabSize,
            contextLength: c.contextLength, layers: c.layers, kvDim: kvd, parameterCount: params, weightBytes: bytes)
    }

    public func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits {
        let c = config, n = batch.tokenCount
        let d = c.hiddenSize, qd = c.heads * c.headDim, kvd = c.kvHeads * c.headDim, ff = c.ffnSize
        x.reserve(n * d); h.reserve(n * d); q.reserve(n * qd); k.reserve(n * kvd); v.reserve(n * kvd)
        attn.reserve(n * qd); gate.reserve(n * ff); up.reserve(n * ff); ropeTable.reserve(n * rope.dims)
        let X = x.pointer, H = h.pointer, Q = q.pointer, K = k.pointer, V = v.pointer
        let A = attn.pointer, G = gate.pointer, U = up.pointer

        Blocks.embed(batch.tokens, table: embedding, scale: 1, into: X)
        batch.positions.withUnsafeBufferPointer { rope.fillTable(positions: $0.baseAddress!, count: n, table: ropeTable.pointer) }
        plan.build(batch, window: nil)
        let scale = 1 / Float(c.headDim).squareRoot()

        for (li, L) in layers.enumerated() {
            H.update(from: X, count: n * d)
            Blocks.rmsNorm(H, rows: n, dim: d, weight: L.attnNorm, eps: c.rmsEps)
            matmul(H, ldx: d, tokens: n, cols: d, L.wq.job(into: Q, ldy: qd), L.wk.job(into: K, ldy: kvd), L.wv.job(into: V, ldy: kvd))
            rope.apply(Q, ld: qd, count: n, heads: c.heads, headDim: c.headDim, table: ropeTable.pointer)
            rope.apply(K, ld: kvd, count: n, heads: c.kvHeads, headDim: c.headDim, table: ropeTable.pointer)
            Blocks.storeKV(k: K, v: V, batch: batch, cache: cache, layer: li)
            plan.run(q: Q, ldq: qd, out: A, ldo: qd, batch: batch, cache: cache, layer: li,
                     heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, scale: scale)
            matmul(A, ldx: qd, tokens: n, cols: qd, L.wo.job(into: X, ldy: d, accumulate: true))

            H.update(from: X, count: n * d)
            Blocks.rmsNorm(H, rows: n, dim: d, weight: L.ffnNorm, eps: c.rmsEps)
            matmul(H, ldx: d, tokens: n, cols: d, L.gate.job(into: G, ldy: ff), L.up.job(into: U, ldy: ff))
            rs_silu_mul(G, U, G, Int64(n * ff))
            matmul(G, ldx: ff, tokens: n, cols: ff, L.down.job(into: X, ldy: d, accumulate: true))
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
