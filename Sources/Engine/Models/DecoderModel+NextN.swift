import Kernels

extension DecoderModel {
    /// Runs the MTP layer over `batch`, whose token at position p is the token at p + 1 of its
    /// sequence; row t of `hidden` (hidden size floats a row) is the hidden state for token t.
    /// Writes the layer's K/V into the cache's layer `layers.count` at the batch's slots, leaves
    /// every token's normed output in `draftOut` (a chain's next step takes it as its hidden
    /// state) and returns the logits the batch asks for. The main pass's logits are overwritten.
    func draftForward(_ batch: ForwardBatch, hidden hin: UnsafePointer<Float>, cache: KVCache) -> Logits {
        guard let m = nextn else { preconditionFailure("draftForward on a model without an MTP layer") }
        let n = batch.tokenCount, d = embedding.cols
        reserveWorkspace(n)
        draftIn.reserve(n * 2 * d)
        let C = draftIn.pointer, X = x.pointer
        // [enorm(embed(token)), hnorm(h)] side by side, then eh_proj into the residual stream.
        Blocks.embed(batch.tokens, table: embedding, scale: embeddingScale, into: X)
        Blocks.copyRows(X, ldSrc: d, to: C, ldDst: 2 * d, rows: n, cols: d)
        Blocks.copyRows(hin, ldSrc: d, to: C + d, ldDst: 2 * d, rows: n, cols: d)
        Blocks.rmsNorm(C, rows: n, dim: d, ld: 2 * d, weight: m.enorm, eps: normEps)
        Blocks.rmsNorm(C + d, rows: n, dim: d, ld: 2 * d, weight: m.hnorm, eps: normEps)
        matmul(C, ldx: 2 * d, tokens: n, cols: 2 * d, m.ehProj.job(into: X, ldy: d))
        preparePositions(batch)
        runLayer(m.block, index: layers.count, n: n, batch: batch, cache: cache)

        draftOut.reserve(n * d)
        draftOut.pointer.update(from: X, count: n * d)
        Blocks.rmsNorm(draftOut.pointer, rows: n, dim: d, weight: m.finalNorm, eps: normEps)
        let rows = batch.logitRowCount, vocab = output.rows
        logitIn.reserve(rows * d)
        logits.reserve(rows * vocab)
        let k = Blocks.gatherLogitRows(batch, x: draftOut.pointer, dim: d, into: logitIn.pointer)
        matmul(logitIn.pointer, ldx: d, tokens: k, cols: d, output.job(into: logits.pointer, ldy: vocab))
        return Logits(pointer: logits.pointer, rows: k, vocabSize: vocab)
    }
}
