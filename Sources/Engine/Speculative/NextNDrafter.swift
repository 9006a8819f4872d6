import Profiler

/// Drafting with the model's own MTP (nextn) layer, on the device thread.
///
/// The layer runs only in steps that draft. Every main pass leaves its hidden states (after the
/// final norm) in `store`, at the KV slots of their positions; a verification batch arrives
/// with placeholder drafts and, per drafting sequence, the positions the layer missed since it
/// last ran there (`DeviceBatch.Seq.catchUpFrom`, with the token after each). `fillDrafts`
/// first runs the layer over all of those in one batched pass (its KV lives in the cache's
/// layer after the model's, at the same slots, so pages, radix sharing and retraction need
/// nothing of their own); the last position's greedy guess is draft 1. Then it chains the
/// layer for the rest: step j sits at position root + j - 2 (slots the host reserved for the
/// verification), takes draft j - 1 and its own previous output as the hidden state. Drafts
/// are greedy (top-k 1), for sampled requests too: verification keeps those exact whatever
/// the drafts are. While the measured gate keeps speculation off, nextn costs a copy of each
/// token's hidden state and nothing else.
final class NextNDrafter {
    // Device thread only.
    private let model: DecoderModel
    private let d: Int
    /// Per request row: the draft after its newest token, and the layer's normed output at the
    /// position before (the next chain step's hidden state).
    private var first: [Int32]
    private let state: FloatBuffer
    /// The main model's hidden state after the final norm, per KV slot.
    private let store: FloatBuffer
    /// Most tokens one catch-up pass takes (a long prompt is caught up in several).
    private let passTokens: Int
    private var batch: ForwardBatch
    private let hin = FloatBuffer(count: 0)
    /// Per sequence of the draft batch: its index in the device batch and its last row.
    private var members: [(seq: Int, lastRow: Int)] = []

    init(model: DecoderModel, rows: Int, slots: Int, slotTable: UnsafePointer<Int32>, passTokens: Int) {
        self.model = model
        d = model.embedding.cols
        first = Array(repeating: 0, count: rows)
        state = FloatBuffer(count: rows * d)
        store = FloatBuffer(count: slots * d)
        self.passTokens = max(1, passTokens)
        batch = ForwardBatch(slotTable: slotTable)
    }

    /// The main pass keeps its hidden states while this drafter's engine runs (the model may
    /// serve a plain engine later).
    func attach() { model.captureHidden = true }
    func detach() { model.captureHidden = false }

    /// After the main pass: its hidden states to the slots of their positions. Rejected drafts'
    /// rows are stored too; the next pass at those positions overwrites them before any
    /// catch-up reads them (catch-ups stop before the root).
    func keepHidden(_ b: DeviceBatch) {
        let src = model.hidden.pointer
        for (t, slot) in b.forward.outSlots.enumerated() {
            (store.pointer + Int(slot) * d).update(from: src + t * d, count: d)
        }
    }

    /// Writes the drafts of every sequence that verifies some (their KV slots are reserved up
    /// to the last one) into the batch.
    func fillDrafts(_ b: DeviceBatch, cache: KVCache) {
        let start = Recorder.now()
        catchUp(b, cache: cache)
        b.catchUpNanos = Recorder.now() - start
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

    /// The layer over each drafting sequence's missed positions (`catchUpFrom ..< root`, given
    /// the tokens after them), in passes of at most `passTokens`; a sequence split across
    /// passes sees its earlier part in the cache. Leaves `first` and `state` of each.
    private func catchUp(_ b: DeviceBatch, cache: KVCache) {
        batch.slotTable = b.forward.slotTable
        batch.removeAll()
        members.removeAll(keepingCapacity: true)
        hin.reserve(passTokens * d)
        var tokenAt = 0
        for (i, s) in b.seqs.enumerated() where s.drafts > 0 && s.catchUpFrom >= 0 {
            let f = b.forward.sequences[i], root = f.kvLength - f.tokenCount
            var p = s.catchUpFrom
            while p < root {
                let m = min(root - p, passTokens - batch.tokenCount)
                batch.append(tokens: b.catchUpTokens[tokenAt ..< tokenAt + m], startPosition: p, slotRow: f.slotRow)
                tokenAt += m
                p += m
                if p == root { members.append((seq: i, lastRow: batch.sequences.count - 1)) }
                if batch.tokenCount == passTokens { runCatchUp(b, cache: cache) }
            }
        }
        if batch.tokenCount > 0 { runCatchUp(b, cache: cache) }
    }

    /// One catch-up pass over `batch`; `members` name the sequences that end in it (their
    /// `lastRow` is their index among the pass's sequences, one logits row each).
    private func runCatchUp(_ b: DeviceBatch, cache: KVCache) {
        for (t, slot) in batch.outSlots.enumerated() {
            (hin.pointer + t * d).update(from: store.pointer + Int(slot) * d, count: d)
        }
        let logits = model.draftForward(batch, hidden: hin.pointer, cache: cache)
        for m in members {
            let row = b.seqs[m.seq].row, last = batch.sequences[m.lastRow]
            first[row] = Sampler.argmax(logits.row(m.lastRow))
            (state.pointer + row * d).update(from: model.draftOut.pointer + (last.tokenStart + last.tokenCount - 1) * d, count: d)
        }
        batch.removeAll()
        members.removeAll(keepingCapacity: true)
    }
}
