import Kernels

/// A decoder-only transformer assembled from layers: the one forward pass of every
/// architecture here. Each architecture's file reads its config and names its tensors
/// (`DecoderModel+Loading.swift` builds the layers); this type runs them.
final class DecoderModel: LanguageModel, MixtureOfExperts, @unchecked Sendable {
    // The workspace and `moeBackend` are used only by the thread running `forward` (the
    // backend is set before the engine starts).
    let info: ModelInfo
    let shape: AttentionShape
    let embedding: WeightMatrix
    /// Gemma multiplies the looked-up embeddings by sqrt(hidden size); 1 elsewhere.
    let embeddingScale: Float
    let output: WeightMatrix
    let outputNorm: UnsafePointer<Float>
    let layers: [DecoderLayer]
    /// The MTP draft layer (`DecoderModel+NextN.swift`), when the checkpoint has one; its KV is
    /// the cache's layer `layers.count`.
    let nextn: NextNLayer?
    let normEps: Float
    /// Keeps mapped files and converted weights alive.
    let owner: Any
    var moeBackend = MoEBackend.grouped
    var halfKV: Bool { true }
    /// The batch's prompt rows for the kernels (`ForwardBatch.promptRanges`), storage reused.
    var promptBounds: [Int64] = []

    /// The distinct RoPE and window pairs of the layers (one for most models, a global and a
    /// sliding one for Gemma 3): each gets one rotation table and one attention plan per batch.
    let attentionKinds: [AttentionKind]
    /// Index into `attentionKinds` of each layer, the MTP block last.
    let kindOfLayer: [Int]
    let ropeTables: [FloatBuffer]
    var plans: [AttentionPlan]

    let x = FloatBuffer(count: 0), h = FloatBuffer(count: 0), o = FloatBuffer(count: 0), qkv = FloatBuffer(count: 0)
    let q = FloatBuffer(count: 0), k = FloatBuffer(count: 0), v = FloatBuffer(count: 0)
    let attn = FloatBuffer(count: 0), g = FloatBuffer(count: 0), u = FloatBuffer(count: 0)
    let logitIn = FloatBuffer(count: 0), logits = FloatBuffer(count: 0)
    /// With `captureHidden`, every token's hidden state after the final norm (the MTP layer's
    /// input), in batch order; and the MTP pass's scratch and normed output.
    var captureHidden = false
    let hidden = FloatBuffer(count: 0), draftIn = FloatBuffer(count: 0), draftOut = FloatBuffer(count: 0)

    struct AttentionKind: Equatable {
        let rope: RoPE
        let window: Int?
    }

    init(info: ModelInfo, shape: AttentionShape, embedding: WeightMatrix, embeddingScale: Float = 1, output: WeightMatrix,
         outputNorm: UnsafePointer<Float>, layers: [DecoderLayer], nextn: NextNLayer? = nil, normEps: Float, owner: Any) {
        self.info = info
        self.shape = shape
        self.embedding = embedding
        self.embeddingScale = embeddingScale
        self.output = output
        self.outputNorm = outputNorm
        self.layers = layers
        self.nextn = nextn
        self.normEps = normEps
        self.owner = owner
        var kinds: [AttentionKind] = []
        kindOfLayer = (layers + (nextn.map { [$0.block] } ?? [])).map { L in
            let kind = AttentionKind(rope: L.rope, window: L.window)
            if let i = kinds.firstIndex(of: kind) { return i }
            kinds.append(kind)
            return kinds.count - 1
        }
        attentionKinds = kinds
        ropeTables = kinds.map { _ in FloatBuffer(count: 0) }
        plans = kinds.map { _ in AttentionPlan() }
    }

    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits {
        let n = batch.tokenCount, d = embedding.cols
        reserveWorkspace(n)
        let X = x.pointer
        Blocks.embed(batch.tokens, table: embedding, scale: embeddingScale, into: X)
        preparePositions(batch)

        // Prompt tokens take bf16 products (`--bf16-prompts`, CPUs with AVX-512 BF16) in any
        // batch, whatever else it holds; decode, verification and generated tokens never do.
        let bf16 = rs_bf16_prompts() != 0 && rs_thread_activations() != RS_ACTS_FP32 && rs_bf16_panels_supported() != 0
        let ranges = bf16 ? batch.promptRanges(into: &promptBounds) : 0
        if ranges > 0 { rs_set_thread_bf16_rows(promptBounds, Int32(ranges), Int64(n)) }
        for (li, L) in layers.enumerated() { runLayer(L, index: li, n: n, batch: batch, cache: cache) }
        if ranges > 0 { rs_set_thread_bf16_rows(nil, 0, 0) }
        if captureHidden {
            hidden.reserve(n * d)
            hidden.pointer.update(from: X, count: n * d)
            Blocks.rmsNorm(hidden.pointer, rows: n, dim: d, weight: outputNorm, eps: normEps)
        }

        let rows = batch.logitRowCount, vocab = output.rows
        logitIn.reserve(rows * d)
        logits.reserve(rows * vocab)
        let m = Blocks.gatherLogitRows(batch, x: X, dim: d, into: logitIn.pointer)
        Blocks.rmsNorm(logitIn.pointer, rows: m, dim: d, weight: outputNorm, eps: normEps)
        matmul(logitIn.pointer, ldx: d, tokens: m, cols: d, output.job(into: logits.pointer, ldy: vocab))
        return Logits(pointer: logits.pointer, rows: m, vocabSize: vocab)
    }

    /// Layer `li` (the cache's layer `li`; the MTP block is `layers.count`) over the batch's
    /// residual stream in `x`. The batch's RoPE tables and attention plans must be built.
    func runLayer(_ L: DecoderLayer, index li: Int, n: Int, batch: ForwardBatch, cache: KVCache) {
        let s = shape, d = embedding.cols
        let qd = s.qDim, kvd = s.kvDim, hd = s.headDim
        let X = x.pointer, H = h.pointer, Q = q.pointer, K = k.pointer, V = v.pointer, A = attn.pointer
        let kind = kindOfLayer[li], table = ropeTables[kind].pointer
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
        L.rope.apply(Q, ld: qd, count: n, heads: s.heads, headDim: hd, table: table)
        L.rope.apply(K, ld: kvd, count: n, heads: s.kvHeads, headDim: hd, table: table)
        Blocks.storeKV(k: K, v: V, batch: batch, cache: cache, layer: li)
        plans[kind].run(q: Q, ldq: qd, out: A, ldo: qd, batch: batch, cache: cache, layer: li,
                        heads: s.heads, kvHeads: s.kvHeads, headDim: hd, scale: s.queryScale)
        if let post = L.postAttnNorm {
            let O = residualScratch(n * d)
            matmul(A, ldx: qd, tokens: n, cols: qd, L.attention.output.job(into: O, ldy: d))
            addNormalized(O, into: X, rows: n, dim: d, weight: post)
        } else {
            matmul(A, ldx: qd, tokens: n, cols: qd, L.attention.output.job(into: X, ldy: d, accumulate: true))
        }

        H.update(from: X, count: n * d)
        Blocks.rmsNorm(H, rows: n, dim: d, weight: L.ffnNorm, eps: normEps)
        if let post = L.postFfnNorm {
            let O = residualScratch(n * d)
            feedForward(L.ffn, H, n: n, into: O, accumulate: false)
            addNormalized(O, into: X, rows: n, dim: d, weight: post)
        } else {
            feedForward(L.ffn, H, n: n, into: X, accumulate: true)
        }
    }

    func reserveWorkspace(_ n: Int) {
        let d = embedding.cols
        x.reserve(n * d); h.reserve(n * d); q.reserve(n * shape.qDim); k.reserve(n * shape.kvDim); v.reserve(n * shape.kvDim)
        attn.reserve(n * shape.qDim)
    }

    /// RoPE tables and attention plans for the batch's positions.
    func preparePositions(_ batch: ForwardBatch) {
        let n = batch.tokenCount
        for (i, kind) in attentionKinds.enumerated() {
            ropeTables[i].reserve(n * kind.rope.dims)
            batch.positions.withUnsafeBufferPointer { kind.rope.fillTable(positions: $0.baseAddress!, count: n, table: ropeTables[i].pointer) }
            plans[i].build(batch, window: kind.window)
        }
    }

    /// y = ffn(h), or y += ffn(h) when `accumulate`.
    func feedForward(_ ffn: FeedForward, _ h: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool) {
        switch ffn {
        case .dense(let mlp): mlp.forward(h, ldx: embedding.cols, n: n, into: y, accumulate: accumulate, g: g, u: u)
        case .moe(let m):
            // The MoE layer always adds to its output.
            if !accumulate { y.update(repeating: 0, count: n * embedding.cols) }
            m.forward(h, n: n, into: y, backend: moeBackend)
        }
    }

    /// A block's output before its sandwich norm (Gemma).
    func residualScratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        o.reserve(count)
        return o.pointer
    }

    /// x += rmsnorm(o): a sandwich-normed block joining the residual stream.
    func addNormalized(_ o: UnsafeMutablePointer<Float>, into x: UnsafeMutablePointer<Float>, rows: Int, dim: Int,
                       weight: UnsafePointer<Float>) {
        Blocks.rmsNorm(o, rows: rows, dim: dim, weight: weight, eps: normEps)
        Blocks.add(o, into: x, count: rows * dim)
    }

    func drainExpertCounts(_ body: (Int, Int, Int64) -> Void) {
        for (li, L) in layers.enumerated() {
            guard case .moe(let m) = L.ffn else { continue }
            for (x, c) in m.counts.enumerated() where c > 0 { body(li, x, c) }
            m.resetCounts()
        }
        // The draft layer's experts are not the model's layers (expert panes index by layer).
        if let n = nextn, case .moe(let m) = n.block.ffn { m.resetCounts() }
    }
}
