import Kernels

/// A pre-norm decoder-only transformer assembled from layers: the forward pass shared by the
/// Hugging Face-style architectures (Qwen3, Qwen3-MoE, BailingMoeV2). Each architecture's file
/// reads its config and names its tensors; this type runs them.
final class DecoderModel: LanguageModel, MixtureOfExperts, @unchecked Sendable {
    // The workspace and `moeBackend` are used only by the thread running `forward` (the
    // backend is set before the engine starts).
    let info: ModelInfo
    let shape: AttentionShape
    let embedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let layers: [DecoderLayer]
    let normEps: Float
    /// Keeps mapped files and converted weights alive.
    let owner: Any
    var moeBackend = MoEBackend.grouped

    private let x = FloatBuffer(count: 0), h = FloatBuffer(count: 0), qkv = FloatBuffer(count: 0)
    private let q = FloatBuffer(count: 0), k = FloatBuffer(count: 0), v = FloatBuffer(count: 0)
    private let attn = FloatBuffer(count: 0), g = FloatBuffer(count: 0), u = FloatBuffer(count: 0)
    private let ropeTable = FloatBuffer(count: 0), logitIn = FloatBuffer(count: 0), logits = FloatBuffer(count: 0)
    private var plan = AttentionPlan()

    init(info: ModelInfo, shape: AttentionShape, embedding: WeightMatrix, output: WeightMatrix,
         outputNorm: UnsafePointer<Float>, layers: [DecoderLayer], normEps: Float, owner: Any) {
        self.info = info
        self.shape = shape
        self.embedding = embedding
        self.output = output
        self.outputNorm = outputNorm
        self.layers = layers
        self.normEps = normEps
        self.owner = owner
    }

    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits {
        let s = shape, n = batch.tokenCount, d = embedding.cols
        let qd = s.qDim, kvd = s.kvDim, hd = s.headDim
        x.reserve(n * d); h.reserve(n * d); q.reserve(n * qd); k.reserve(n * kvd); v.reserve(n * kvd)
        attn.reserve(n * qd); ropeTable.reserve(n * s.rope.dims)
        let X = x.pointer, H = h.pointer, Q = q.pointer, K = k.pointer, V = v.pointer, A = attn.pointer

        Blocks.embed(batch.tokens, table: embedding, scale: 1, into: X)
        batch.positions.withUnsafeBufferPointer { s.rope.fillTable(positions: $0.baseAddress!, count: n, table: ropeTable.pointer) }
        plan.build(batch, window: nil)
        let scale = 1 / Float(hd).squareRoot()

        for (li, L) in layers.enumerated() {
            H.update(from: X, count: n * d)
            Blocks.rmsNorm(H, rows: n, dim: d, weight: L.attnNorm, eps: normEps)
            switch L.attention.projection {
            case let .separate(wq, wk, wv):
                matmul(H, ldx: d, tokens: n, cols: d, wq.job(into: Q, ldy: qd), wk.job(into: K, ldy: kvd), wv.job(into: V, ldy: kvd))
            case let .fused(w):
                let all = qd + 2 * kvd
                qkv.reserve(n * all)
                matmul(H, ldx: d, tokens: n, cols: d, w.job(into: qkv.pointer, ldy: all))
                Blocks.copyRows(qkv.pointer, ldSrc: all, to: Q, ldDst: qd, rows: n, cols: qd)
                Blocks.copyRows(qkv.pointer + qd, ldSrc: all, to: K, ldDst: kvd, rows: n, cols: kvd)
                Blocks.copyRows(qkv.pointer + qd + kvd, ldSrc: all, to: V, ldDst: kvd, rows: n, cols: kvd)
            }
            if let w = L.attention.qNorm { Blocks.rmsNorm(Q, rows: n * s.heads, dim: hd, weight: w, eps: normEps) }
            if let w = L.attention.kNorm { Blocks.rmsNorm(K, rows: n * s.kvHeads, dim: hd, weight: w, eps: normEps) }
            s.rope.apply(Q, ld: qd, count: n, heads: s.heads, headDim: hd, table: ropeTable.pointer)
            s.rope.apply(K, ld: kvd, count: n, heads: s.kvHeads, headDim: hd, table: ropeTable.pointer)
            Blocks.storeKV(k: K, v: V, batch: batch, cache: cache, layer: li)
            plan.run(q: Q, ldq: qd, out: A, ldo: qd, batch: batch, cache: cache, layer: li,
                     heads: s.heads, kvHeads: s.kvHeads, headDim: hd, scale: scale)
            matmul(A, ldx: qd, tokens: n, cols: qd, L.attention.output.job(into: X, ldy: d, accumulate: true))

            H.update(from: X, count: n * d)
            Blocks.rmsNorm(H, rows: n, dim: d, weight: L.ffnNorm, eps: normEps)
            switch L.ffn {
            case .dense(let mlp): mlp.forward(H, ldx: d, n: n, into: X, accumulate: true, g: g, u: u)
            case .moe(let m): m.forward(H, n: n, into: X, backend: moeBackend)
            }
        }

        let rows = batch.logitRowCount, vocab = output.rows
        logitIn.reserve(rows * d)
        logits.reserve(rows * vocab)
        let m = Blocks.gatherLogitRows(batch, x: X, dim: d, into: logitIn.pointer)
        Blocks.rmsNorm(logitIn.pointer, rows: m, dim: d, weight: outputNorm, eps: normEps)
        matmul(logitIn.pointer, ldx: d, tokens: m, cols: d, output.job(into: logits.pointer, ldy: vocab))
        return Logits(pointer: logits.pointer, rows: m, vocabSize: vocab)
    }

    func drainExpertCounts(_ body: (Int, Int, Int64) -> Void) {
        for (li, L) in layers.enumerated() {
            guard case .moe(let m) = L.ffn else { continue }
            for (x, c) in m.counts.enumerated() where c > 0 { body(li, x, c) }
            m.resetCounts()
        }
    }
}
