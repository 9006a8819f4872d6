/// Drafting with the model's own MTP (nextn) layer, on the device thread.
///
/// After every batch (`extend`) the layer runs over each sequence's newly final positions with
/// the main model's hidden states there, which keeps its KV complete (in the cache's layer after
/// the model's, at the same slots as the main KV, so pages, radix sharing and retraction need
/// nothing of their own) and leaves, per request row, its greedy guess for the token after the
/// newest one and its output there. A verification batch arrives with placeholder drafts; before
/// the target runs, `fillDrafts` writes that guess as draft 1 and chains the layer for the rest:
/// step j sits at position root + j - 2 (slots the host reserved for the verification), takes
/// draft j - 1 and its own previous output as the hidden state. Drafts are greedy (top-k 1), for
/// sampled requests too: verification keeps those exact whatever the drafts are.
final class NextNDrafter {
    // Device thread only.
    private let model: DecoderModel
    private let d: Int
    /// Per request row: the draft after its newest token, and the layer's normed output at the
    /// position before (the next chain step's hidden state).
    private var first: [Int32]
    private let state: FloatBuffer
    private var batch: ForwardBatch
    private let hin = FloatBuffer(count: 0)
    private var tokens: [Int32] = []
    /// Per sequence of the draft batch: its index in the device batch and its last row.
    private var members: [(seq: Int, lastRow: Int)] = []

    init(model: DecoderModel, rows: Int, slotTable: UnsafePointer<Int32>) {
        self.model = model
        d = model.embedding.cols
        first = Array(repeating: 0, count: rows)
        state = FloatBuffer(count: rows * d)
        batch = ForwardBatch(slotTable: slotTable)
    }

    /// The main pass keeps its hidden states while this drafter's engine runs (the model may
    /// serve a plain engine later).
    func attach() { model.captureHidden = true }
    func detach() { model.captureHidden = false }

    /// Writes the drafts of every sequence that verifies some (their KV slots are reserved up
    /// to the last one) into the batch.
    func fillDrafts(_ b: DeviceBatch, cache: KVCache) {
        var deepest = 0
        for (i, s) in b.seqs.enumerated() where s.drafts > 0 {
            b.forward.setToken(first[s.row], at: b.forward.sequences[i].tokenStart + 1)
            deepest = max(deepest, s.drafts)
        }
        guard deepest > 1 else { return }
        batch.slotTable = b.forward.slotTable
        for j in 2 ... deepest {
            batch.removeAll()
            members.removeAll(keepingCapacity: true)
            hin.reserve(b.seqs.count * d)
            for (i, s) in b.seqs.enumerated() where s.drafts >= j {
                let f = b.forward.sequences[i], root = f.kvLength - f.tokenCount
                batch.append(tokens: CollectionOfOne(b.forward.tokens[f.tokenStart + j - 1]), startPosition: root + j - 2, slotRow: f.slotRow)
                (hin.pointer + members.count * d).update(from: state.pointer + s.row * d, count: d)
                members.append((seq: i, lastRow: members.count))
            }
            let logits = model.draftForward(batch, hidden: hin.pointer, cache: cache)
            for (r, m) in members.enumerated() {
                let s = b.seqs[m.seq]
                b.forward.setToken(Sampler.argmax(logits.row(r)), at: b.forward.sequences[m.seq].tokenStart + j)
                (state.pointer + s.row * d).update(from: model.draftOut.pointer + m.lastRow * d, count: d)
            }
        }
    }

    /// After sampling: the layer over every position whose main hidden state (in
    /// `model.hidden`, batch order) is final, given the token after it: a verification's
    /// accepted positions, a decode's one, a prefill chunk's all (its last one given the sampled
    /// token, or for a chunk before the last the next prompt token the host passed along).
    func extend(_ b: DeviceBatch, cache: KVCache) {
        batch.slotTable = b.forward.slotTable
        batch.removeAll()
        members.removeAll(keepingCapacity: true)
        hin.reserve(b.forward.tokenCount * d)
        var emittedAt = 0, rows = 0
        for (i, s) in b.seqs.enumerated() {
            let f = b.forward.sequences[i], emitted = b.counts[i]
            defer { emittedAt += emitted }
            let last = emitted > 0 ? b.tokens[emittedAt + emitted - 1] : s.nextToken
            var m = s.drafts > 0 ? emitted : f.tokenCount
            if last < 0 { m -= 1 }
            guard m > 0, s.treeStart < 0 else { continue }
            tokens.removeAll(keepingCapacity: true)
            for t in 1 ..< m { tokens.append(b.forward.tokens[f.tokenStart + t]) }
            if last >= 0 { tokens.append(last) } else { tokens.append(b.forward.tokens[f.tokenStart + m]) }
            batch.append(tokens: tokens, startPosition: f.kvLength - f.tokenCount, slotRow: f.slotRow)
            (hin.pointer + rows * d).update(from: model.hidden.pointer + f.tokenStart * d, count: m * d)
            rows += m
            members.append((seq: i, lastRow: rows - 1))
        }
        guard !members.isEmpty else { return }
        let logits = model.draftForward(batch, hidden: hin.pointer, cache: cache)
        for (r, m) in members.enumerated() {
            let row = b.seqs[m.seq].row
            first[row] = Sampler.argmax(logits.row(r))
            (state.pointer + row * d).update(from: model.draftOut.pointer + m.lastRow * d, count: d)
        }
    }
}
