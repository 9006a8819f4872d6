import Foundation
import Kernels
import Profiler

/// The device thread: runs each batch's forward pass and sampling, one at a time, in the order
/// the host launches them. It is the "TPU" of SGLang-JAX's design.
final class DeviceWorker: @unchecked Sendable {
    // `futureMap` and `sampler` are touched only by the device thread.
    private let model: any LanguageModel
    private let moe: (any MixtureOfExperts)?
    private let cache: KVCache
    private let recorder: Recorder
    private let inbox = SPSCQueue<DeviceBatch?>(capacity: 4)
    let outbox = SPSCQueue<DeviceBatch>(capacity: 4)
    /// The newest sampled token of each request row, for placeholders to resolve against.
    private var futureMap: [Int32]
    private var sampler = Sampler()
    private var thread: Thread?

    private let activations: ActivationFormat
    /// bf16 prompt products on this engine's device thread (`EngineConfig.bf16Prompts`): a
    /// thread's own setting, so engines of one process may differ.
    private let bf16Prompts: Bool
    /// Drafts with the model's MTP layer (`--speculative-algorithm nextn`).
    private let nextn: NextNDrafter?

    init(model: any LanguageModel, cache: KVCache, rows: Int, recorder: Recorder, activations: ActivationFormat = .standard,
         bf16Prompts: Bool = true, nextn: NextNDrafter? = nil) {
        self.model = model
        self.activations = activations
        self.bf16Prompts = bf16Prompts
        self.nextn = nextn
        moe = model as? any MixtureOfExperts
        self.cache = cache
        self.recorder = recorder
        futureMap = Array(repeating: 0, count: rows)
    }

    func start() {
        let t = Thread { [self] in run() }
        t.name = "ringside-device"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    /// Hands a batch to the device; returns at once.
    func launch(_ b: DeviceBatch) { inbox.push(b) }

    /// Waits for the oldest launched batch to finish.
    func collect() -> DeviceBatch { outbox.pop() }

    private let finished = DispatchSemaphore(value: 0)

    /// Ends the device thread after the batches already launched; returns once it has ended,
    /// so the model is free for another engine.
    func stop() {
        inbox.push(nil)
        finished.wait()
    }

    /// A finished batch not handed back yet: the next batch's first kernel posts it.
    private var held: DeviceBatch?

    private func run() {
        rs_name_thread("ringside-device")  // Foundation's Thread.name does not reach the kernel
        activations.install()
        rs_set_thread_bf16_prompts(bf16Prompts ? 1 : 0)
        nextn?.attach()
        var next = inbox.pop()
        while let b = next {
            execute(b)
            // nextn: what the MTP layer needs to extend over a verification's accepted
            // positions, taken before the batch goes back to the host.
            nextn?.noteVerified(b)
            let id = b.id, n = b.seqs.count  // the batch is the host's once handed back
            // With overlap the next batch is usually queued already. It starts first, and this
            // one goes back from inside its first parallel region: the host wakes then, and when
            // it takes this core (2 cores, 3 busy threads) the pool's workers carry on with the
            // region, where between batches the device would sit idle until the host is done.
            if let queued = inbox.tryPop() {
                held = b
                rs_pool_defer({ ctx in
                    let w = Unmanaged<DeviceWorker>.fromOpaque(ctx!).takeUnretainedValue()
                    if let b = w.held {
                        w.held = nil
                        w.outbox.push(b)
                    }
                }, Unmanaged.passUnretained(self).toOpaque())
                // (A verification is collected before the next step is built, so nothing is
                // queued after one; were it so, the extension still runs before that batch.)
                extendVerified(id, sequences: n)
                next = queued
            } else {
                outbox.push(b)
                // The MTP layer over the accepted positions runs while the host processes the
                // results and builds the next step.
                extendVerified(id, sequences: n)
                next = inbox.pop()
            }
        }
        rs_pool_run_deferred()
        nextn?.detach()
        finished.signal()
    }

    private func extendVerified(_ id: UInt32, sequences n: Int) {
        guard let nextn else { return }
        recorder.begin(.device, .draft, batch: id, sequences: n)
        if nextn.extendVerified(cache: cache) { recorder.end(.device, .draft, batch: id, sequences: n) }
    }

    private func execute(_ b: DeviceBatch) {
        b.deviceStart = Recorder.now()
        recorder.record(Event(time: b.deviceStart, kind: .begin, lane: .device, span: b.kind, batch: b.id,
                              value: Int64(b.newTokens), a: Int32(b.seqs.count)))
        futureMap.withUnsafeBufferPointer { b.forward.resolvePlaceholders($0) }
        if let nextn, b.hasDrafts {
            recorder.begin(.device, .draft, batch: b.id, sequences: b.seqs.count)
            nextn.fillDrafts(b, cache: cache)
            recorder.end(.device, .draft, batch: b.id, sequences: b.seqs.count)
        }
        recorder.begin(.device, .forward, batch: b.id, tokens: b.newTokens, sequences: b.seqs.count)
        let logits = model.forward(b.forward, cache: cache)
        nextn?.keepHidden(b)
        recorder.end(.device, .forward, batch: b.id, tokens: b.newTokens, sequences: b.seqs.count)
        rs_pool_run_deferred()  // the previous batch, if the forward issued no kernel
        if let moe, recorder.enabled {
            moe.drainExpertCounts { layer, expert, tokens in
                recorder.count(.device, .expertTokens, Int(tokens), a: layer, b: expert)
            }
        }
        let phase: SpanKind = b.hasDrafts ? .verify : .sample
        recorder.begin(.device, phase, batch: b.id, sequences: b.seqs.count)
        b.tokens.removeAll(keepingCapacity: true)
        b.counts.removeAll(keepingCapacity: true)
        b.logprobs.removeAll(keepingCapacity: true)
        var logitRow = 0
        for (i, s) in b.seqs.enumerated() {
            defer { logitRow += s.drafts + 1 }
            guard s.sample, let state = s.state else {
                b.counts.append(0)
                continue
            }
            // Verification: sample each position as plain decoding would, with the tokens
            // accepted so far already counted by the penalties; go on while the sample equals
            // a draft computed after the path so far (the next one of a chain, a child of the
            // current node in a tree).
            let base = b.forward.sequences[i].tokenStart
            var emitted = 0, node = 0
            while true {
                let row = logits.row(logitRow + node)
                if state.hasPenalties { state.applyPenalties(row) }
                let chosen = sampler.sample(row, params: state.params, rng: &state.rng)
                var lp: TokenLogprob?
                if let n = state.topLogprobs {
                    // Log-probabilities of the model's distribution (after penalties, before temperature).
                    let (chosenLogprob, top) = Sampler.logprobs(row, of: chosen, top: n)
                    lp = TokenLogprob(id: chosen, logprob: chosenLogprob, top: top.map { (id: $0.0, logprob: $0.1) })
                }
                state.accept(chosen)
                b.tokens.append(chosen)
                b.logprobs.append(lp)
                emitted += 1
                futureMap[s.row] = chosen
                let next = nextNode(b, s, base: base, after: node, token: chosen)
                guard next > 0 else { break }
                // An accepted tree node's KV moves to the row position of its depth, where the
                // next step reads it (a chain's nodes are there already).
                if s.treeStart >= 0 {
                    cache.copySlot(b.forward.outSlots[base + next], to: b.forward.outSlots[base + emitted])
                }
                node = next
            }
            b.counts.append(emitted)
        }
        recorder.end(.device, phase, batch: b.id, sequences: b.seqs.count)
        b.deviceEnd = Recorder.now()
        recorder.record(Event(time: b.deviceEnd, kind: .end, lane: .device, span: b.kind, batch: b.id,
                              value: Int64(b.newTokens), a: Int32(b.seqs.count)))
    }

    /// The draft node after `node` whose token is `token` (0: none): the next one of a chain,
    /// or a child of `node` in a tree.
    private func nextNode(_ b: DeviceBatch, _ s: DeviceBatch.Seq, base: Int, after node: Int, token: Int32) -> Int {
        if s.treeStart < 0 {
            return node < s.drafts && b.forward.tokens[base + node + 1] == token ? node + 1 : 0
        }
        var c = node + 1
        while c <= s.drafts {
            if b.treeParents[s.treeStart + c] == Int32(node) && b.forward.tokens[base + c] == token { return c }
            c += 1
        }
        return 0
    }

}
