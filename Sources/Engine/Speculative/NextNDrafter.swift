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
/// the drafts are. Once a verification has sampled and its results are on their way to the
/// host, the layer runs over the accepted positions (`extendVerified`), in the time the host
/// takes to build the next step, so that a next verification finds nothing to catch up. While
/// the measured gate keeps speculation off, nextn costs a copy of each token's hidden state.
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
    /// Per sequence of the draft batch: its index in the device batch (a chain step) or in the
    /// spans (a catch-up), and its last row.
    private var members: [(seq: Int, lastRow: Int)] = []
    private var spans: [Span] = []
    /// The verification just sampled: spans over its accepted positions and their next tokens.
    private var after: [Span] = []
    private var afterTokens: [Int32] = []
    private var afterSlotTable: UnsafePointer<Int32>?

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
    /// the tokens after them); an empty span (the layer ran there after the verification
    /// before, `extendVerified`) leaves that sequence's `first` and `state` as they are.
    private func catchUp(_ b: DeviceBatch, cache: KVCache) {
        spans.removeAll(keepingCapacity: true)
        var tokenAt = 0
        for (i, s) in b.seqs.enumerated() where s.drafts > 0 && s.catchUpFrom >= 0 {
            let f = b.forward.sequences[i], root = f.kvLength - f.tokenCount
            guard s.catchUpFrom < root else { continue }
            spans.append(Span(row: s.row, slotRow: f.slotRow, from: s.catchUpFrom, to: root, tokensAt: tokenAt))
            tokenAt += root - s.catchUpFrom
        }
        b.catchUpTokens.withUnsafeBufferPointer { run(spans, tokens: $0, slotTable: b.forward.slotTable, cache: cache) }
    }

    /// Before a verification's results go to the host: what the layer needs to run over its
    /// accepted positions once they have gone (the batch is the host's again by then).
    func noteVerified(_ b: DeviceBatch) {
        after.removeAll(keepingCapacity: true)
        afterTokens.removeAll(keepingCapacity: true)
        afterSlotTable = b.forward.slotTable
        var emittedAt = 0
        for (i, s) in b.seqs.enumerated() {
            let emitted = b.counts[i]
            defer { emittedAt += emitted }
            guard s.drafts > 0, s.treeStart < 0, emitted > 0 else { continue }
            let f = b.forward.sequences[i], root = f.kvLength - f.tokenCount
            after.append(Span(row: s.row, slotRow: f.slotRow, from: root, to: root + emitted, tokensAt: afterTokens.count))
            afterTokens.append(contentsOf: b.tokens[emittedAt ..< emittedAt + emitted])
        }
    }

    /// The layer over the positions the last verification accepted (its root and accepted
    /// drafts, each given the token the target emitted after it), while the host reads the
    /// results and builds the next step: the next verification then drafts at once
    /// (`Scheduler.settleVerified` counts these positions as caught up). Returns whether it ran.
    func extendVerified(cache: KVCache) -> Bool {
        guard !after.isEmpty, let table = afterSlotTable else { return false }
        afterTokens.withUnsafeBufferPointer { run(after, tokens: $0, slotTable: table, cache: cache) }
        after.removeAll(keepingCapacity: true)
        return true
    }

    /// Positions `from ..< to` of a request row's sequence, given the tokens after them
    /// (`tokens[tokensAt...]`).
    struct Span {
        var row: Int
        var slotRow: Int
        var from: Int
        var to: Int
        var tokensAt: Int
    }

    /// The layer over `spans` in passes of at most `passTokens` (a span split across passes
    /// sees its earlier part in the cache), hidden states from `store`; leaves each row's
    /// `first` and `state` from its span's last position.
    private func run(_ spans: [Span], tokens: UnsafeBufferPointer<Int32>, slotTable: UnsafePointer<Int32>, cache: KVCache) {
        batch.slotTable = slotTable
        batch.removeAll()
        members.removeAll(keepingCapacity: true)
        hin.reserve(passTokens * d)
        for (k, span) in spans.enumerated() {
            var p = span.from
            while p < span.to {
                let m = min(span.to - p, passTokens - batch.tokenCount), at = span.tokensAt + p - span.from
                batch.append(tokens: tokens[at ..< at + m], startPosition: p, slotRow: span.slotRow)
                p += m
                if p == span.to { members.append((seq: k, lastRow: batch.sequences.count - 1)) }
                if batch.tokenCount == passTokens { pass(spans, cache: cache) }
            }
        }
        if batch.tokenCount > 0 { pass(spans, cache: cache) }
    }

    /// One pass over `batch`; `members` name the spans that end in it (`lastRow`: their index
    /// among the pass's sequences, one logits row each).
    private func pass(_ spans: [Span], cache: KVCache) {
        for (t, slot) in batch.outSlots.enumerated() {
            (hin.pointer + t * d).update(from: store.pointer + Int(slot) * d, count: d)
        }
        let logits = model.draftForward(batch, hidden: hin.pointer, cache: cache)
        for m in members {
            let row = spans[m.seq].row, last = batch.sequences[m.lastRow]
            first[row] = Sampler.argmax(logits.row(m.lastRow))
            (state.pointer + row * d).update(from: model.draftOut.pointer + (last.tokenStart + last.tokenCount - 1) * d, count: d)
        }
        batch.removeAll()
        members.removeAll(keepingCapacity: true)
    }
}
