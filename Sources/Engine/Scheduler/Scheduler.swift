import Foundation
import Kernels
import Profiler

/// The host thread: SGLang's scheduler event loop. It admits requests, builds each step's
/// batch, launches it on the device thread and processes results: finish checks, radix
/// inserts and streaming.
///
/// In overlap mode the loop launches batch N+1 before it collects batch N, so the device never
/// waits for the host; tokens sampled in N reach N+1 as placeholders that the device resolves.
final class Scheduler: @unchecked Sendable {
    // Everything below the inbox is touched only by the host thread.
    enum Command {
        case submit(Req)
        case cancel(UInt64)
        /// Drop every cached prefix if nothing runs; the reply says whether it did.
        case flushCache(@Sendable (Bool) -> Void)
        /// Runs a closure on the host thread between steps (tests read its state this way).
        case inspect((Scheduler) -> Void)
        case shutdown
    }

    let loaded: LoadedModel
    let config: EngineConfig
    let cache: KVCache
    let slots: ReqToTokenPool
    let tree: RadixCache?
    let device: DeviceWorker
    let recorder: Recorder
    let loadBoard = LoadBoard()
    var retractedCount = 0

    private let inboxLock = NSLock()
    private var inbox: [Command] = []
    private let wake = DispatchSemaphore(value: 0)

    var waiting: [Req] = []
    var running: [Req] = []
    /// Launched batches not yet processed, oldest first, with the requests of their sequences.
    var inFlight: [(DeviceBatch, [Req])] = []
    private var spareBatches: [DeviceBatch] = []
    var inFlightCount: [UInt64: Int] = [:]
    private var shuttingDown = false
    /// Signalled once both threads are done with the model.
    let stopped = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// Estimated share of their remaining budget that running requests will still decode;
    /// admission reserves that much KV for them (SGLang's new_token_ratio).
    var newTokenRatio = 0.4
    /// Checks the KV page invariant after every step (tests turn it on).
    var checkInvariants = false
    private(set) var invariantViolations: [String] = []
    private(set) var steps = 0
    /// Called on the host thread at the end of every loop iteration: tests act at an exact
    /// point of a request's life (waiting, mid-prefill, decoding) instead of after a sleep.
    var afterStep: ((Scheduler) -> Void)?
    /// Speculative decoding: the drafter, the gate that measures whether it pays, the drafts
    /// of the request being scheduled, and whether the step being built speculates.
    let drafter: NgramDrafter?
    /// Drafts that do not come from the n-gram drafters (the MTP layer's placeholders).
    var draftSource: (any DraftSource)?
    /// nextn: which slots hold current MTP-layer KV (for prefixes taken from the radix tree).
    var mtpCoverage: NextNCoverage?
    /// Drafts trees instead of chains (n-gram breadth above 1).
    var treeDrafter: NgramTree?
    var gate: SpeculationGate
    /// Measured cost of decode steps by width, and how far drafts get accepted by the length
    /// of their match, for how many drafts to offer.
    var stepCosts: StepCosts
    var acceptance: AcceptanceTable
    var draftScratch: [Int32] = []
    var parentScratch: [Int] = []
    var draftIsTree = false
    var speculating = false
    /// When the previous batch left the device, for the gate's step times.
    var lastDeviceEnd: UInt64 = 0
    private let debugLog = ProcessInfo.processInfo.environment["RINGSIDE_DEBUG_SCHEDULER"] != nil

    init(loaded: LoadedModel, config: EngineConfig, recorder: Recorder) {
        self.loaded = loaded
        self.config = config
        self.recorder = recorder
        let info = loaded.model.info
        let precision = config.kvPrecision(for: loaded.model)
        // The MTP layer keeps its KV in one more cache layer, at the same slots as the model's,
        // and the main model's hidden state of every slot (`NextNDrafter.store`, fp32).
        let nextn = config.speculative?.algorithm == .nextn ? (loaded.model as? DecoderModel).flatMap { $0.nextn == nil ? nil : $0 } : nil
        let tokens = config.kvCacheTokens
            ?? Self.defaultKVTokens(info: info, precision: precision, mtpHidden: nextn?.embedding.cols)
        cache = KVCache(layers: info.layers + (nextn == nil ? 0 : 1), kvDim: info.kvDim, tokens: tokens, pageSize: config.pageSize,
                        precision: precision)
        slots = ReqToTokenPool(rows: config.maxRunningRequests, maxContext: min(info.contextLength, cache.slotCount) + config.pageSize)
        tree = config.radixCache ? RadixCache(pageSize: config.pageSize) : nil
        let table = slots.table, slotCount = cache.slotCount, passTokens = min(config.chunkedPrefillSize, 512)
        device = DeviceWorker(model: loaded.model, cache: cache, rows: config.maxRunningRequests, recorder: recorder,
                              activations: config.fp32Activations ? .fp32 : .standard, bf16Prompts: config.bf16Prompts,
                              nextn: nextn.map {
                                  NextNDrafter(model: $0, rows: config.maxRunningRequests, slots: slotCount, slotTable: table,
                                               passTokens: passTokens)
                              })
        recorder.enabled = config.recordEvents
        drafter = config.speculative.flatMap {
            $0.algorithm == .ngram ? NgramDrafter(minWindow: $0.ngramMinMatchWindow, maxWindow: $0.ngramMaxMatchWindow) : nil
        }
        if nextn != nil {
            draftSource = NextNDraftSlots()
            mtpCoverage = NextNCoverage(slots: cache.slotCount)
        }
        gate = SpeculationGate(maxBatch: config.maxRunningRequests)
        stepCosts = StepCosts(maxWidth: config.maxRunningRequests * (config.speculative?.numDraftTokens ?? 1))
        acceptance = AcceptanceTable(depth: config.speculative?.maxDrafts ?? 1)
        draftScratch.reserveCapacity((config.speculative?.maxDrafts ?? 0) + 1)
        parentScratch.reserveCapacity((config.speculative?.maxDrafts ?? 0) + 1)
        if let s = config.speculative, s.algorithm == .ngram, s.ngramMaxBreadth > 1 {
            treeDrafter = NgramTree(minWindow: s.ngramMinMatchWindow, maxWindow: s.ngramMaxMatchWindow, breadth: s.ngramMaxBreadth)
        }
        (loaded.model as? MixtureOfExperts)?.moeBackend = config.moeBackend
    }

    /// A quarter of the memory that is free now (`free`: given instead), at most the context of
    /// 64 sequences; a token costs the K and V of every layer and, with an MTP drafter
    /// (`mtpHidden`: its hidden size), its KV layer and the stored fp32 hidden state.
    static func defaultKVTokens(info: ModelInfo, precision: KVCache.Precision, mtpHidden: Int? = nil, free given: Int? = nil) -> Int {
        let layers = info.layers + (mtpHidden == nil ? 0 : 1)
        let perToken = layers * info.kvDim * 2 * precision.bytes + (mtpHidden ?? 0) * 4
        var free = given ?? 4 << 30
        if given == nil, let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
            free = kb * 1024
        }
        return max(1024, min(free / 4 / perToken, 64 * info.contextLength, 1 << 20))
    }

    /// Longest prompt a request may have: it must fit the context and the KV pool.
    var maxPromptTokens: Int { min(loaded.model.info.contextLength, cache.slotCount) - 1 }
    /// Prompt and output together end at the model's context (OpenAI's `length`); past it
    /// the request's row of the slot table would overflow.
    var maxSequenceTokens: Int { loaded.model.info.contextLength }

    func start() {
        device.start()
        let t = Thread { [self] in loop() }
        t.name = "ringside-host"
        t.stackSize = 8 << 20
        thread = t
        t.start()
    }

    func send(_ c: Command) {
        inboxLock.lock()
        inbox.append(c)
        inboxLock.unlock()
        wake.signal()
    }

    private func takeInbox(block: Bool) -> [Command] {
        if block { wake.wait() }
        inboxLock.lock()
        defer { inboxLock.unlock() }
        let cs = inbox
        inbox.removeAll(keepingCapacity: true)
        return cs
    }

    /// Commands sent but not yet taken by the host thread.
    var hasPendingCommands: Bool {
        inboxLock.lock()
        defer { inboxLock.unlock() }
        return !inbox.isEmpty
    }

    var idle: Bool { waiting.isEmpty && running.isEmpty && inFlight.isEmpty }

    private func loop() {
        rs_name_thread("ringside-host")  // for top -H, perf and gdb
        while true {
            for c in takeInbox(block: idle) {
                switch c {
                case .submit(let r): waiting.append(r)
                case .cancel(let id): cancel(id)
                case .flushCache(let reply): reply(flushCache())
                case .inspect(let look): look(self)
                case .shutdown: shuttingDown = true
                }
            }
            if shuttingDown {
                for r in waiting + running { r.cancelled = true }
                drainInFlight()
                for r in waiting + running { finishStream(r, error: EngineError.shutDown) }
                waiting.removeAll()
                running.removeAll()
                device.stop()
                stopped.signal()
                return
            }
            // A speculative step drafts from tokens the host has seen, so it waits for the
            // batches in flight first: speculative steps run without overlap.
            speculating = draftSource != nil ? decideSourceSpeculation() : decideSpeculation()
            if speculating { drainInFlight() }
            let batch = buildBatch()
            if let (b, reqs) = batch {
                b.speculative = speculating
                mtpCoverage?.stale(b.forward.outSlots)
                recorder.begin(.host, .launch, batch: b.id)
                device.launch(b)
                recorder.end(.host, .launch, batch: b.id)
                for r in reqs { inFlightCount[r.id, default: 0] += 1 }
                inFlight.append((b, reqs))
            }
            // Overlap: collect the older batch only once a newer one is on its way (at once
            // after a speculative step, whose requests wait for their verified tokens).
            if !inFlight.isEmpty && (!config.overlap || inFlight.count >= 2 || batch == nil || speculating) {
                processOldest()
            }
            steps += 1
            if debugLog && steps % 50 == 0 {
                let line = "step \(steps) running \(running.count) (prefill \(running.filter(\.inPrefill).count)) waiting \(waiting.count) free \(cache.allocator.freePages) evictable \(tree?.evictablePages ?? 0) locked \(tree?.lockedPages ?? 0) inflight \(inFlight.count) ratio \(newTokenRatio) batch \(batch.map { "\($0.0.kind) \($0.0.newTokens)" } ?? "-")\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
            publishGauges()
            if checkInvariants { checkPageInvariant() }
            afterStep?(self)
        }
    }

    func processOldest() {
        let (b, reqs) = inFlight.removeFirst()
        let done = device.collect()
        precondition(done === b, "device batches come back in launch order")
        measureStep(b)
        process(b, reqs)
        for r in reqs {
            inFlightCount[r.id, default: 1] -= 1
            if inFlightCount[r.id] == 0 { inFlightCount[r.id] = nil }
        }
        retireDone()
        spareBatches.append(b)
    }

    func drainInFlight() {
        while !inFlight.isEmpty { processOldest() }
    }

    /// An empty batch (recycled when possible) carrying `id`, the id its schedule span has.
    func takeBatch(id: UInt32) -> DeviceBatch {
        if let b = spareBatches.popLast() {
            b.forward.removeAll()
            b.seqs.removeAll(keepingCapacity: true)
            b.treeParents.removeAll(keepingCapacity: true)
            b.catchUpTokens.removeAll(keepingCapacity: true)
            b.catchUpNanos = 0
            b.id = id
            return b
        }
        return DeviceBatch(id: id, slotTable: slots.table)
    }

    func returnSpare(_ b: DeviceBatch) { spareBatches.append(b) }

    func isInFlight(_ r: Req) -> Bool { inFlightCount[r.id] != nil }

    private func cancel(_ id: UInt64) {
        if let i = waiting.firstIndex(where: { $0.id == id }) {
            let r = waiting.remove(at: i)
            r.cancelled = true
            releaseKV(r)
            finishStream(r, error: CancellationError())
        } else if let r = running.first(where: { $0.id == id }) {
            r.cancelled = true
            retireDone()
        }
    }

    private func flushCache() -> Bool {
        guard idle, let t = tree else { return idle }
        t.evict(pages: t.evictablePages) { cache.allocator.release($0) }
        publishGauges()
        return true
    }

    private func publishGauges() {
        var l = EngineLoad()
        l.runningRequests = running.count
        l.queuedRequests = waiting.count
        l.kvPagesTotal = cache.pageCount
        l.kvPagesFree = cache.allocator.freePages
        l.kvPagesEvictable = tree?.evictablePages ?? 0
        l.kvPagesLocked = tree?.lockedPages ?? 0
        l.pageSize = cache.pageSize
        l.radixQueryTokens = tree?.stats.queryTokens ?? 0
        l.radixHitTokens = tree?.stats.hitTokens ?? 0
        l.retractedRequests = retractedCount
        loadBoard.publish(l)
        guard recorder.enabled else { return }
        recorder.gauge(.host, .runningRequests, running.count)
        recorder.gauge(.host, .queuedRequests, waiting.count)
        recorder.gauge(.host, .kvPagesUsed, cache.pageCount - cache.allocator.freePages)
        recorder.gauge(.host, .kvPagesTotal, cache.pageCount)
        if let t = tree {
            recorder.gauge(.host, .radixNodes, t.nodeCount)
            recorder.gauge(.host, .radixCachedPages, t.cachedPages)
        }
    }

    /// free + evictable (tree, unlocked) + in use (locked tree paths and requests' own pages)
    /// must always equal the pool.
    private func checkPageInvariant() {
        let free = cache.allocator.freePages
        let treePages = tree?.cachedPages ?? 0
        var own = 0
        for r in running + waiting { own += r.pages.count - r.treePages }
        if free + treePages + own != cache.pageCount {
            invariantViolations.append("step \(steps): free \(free) + tree \(treePages) + requests \(own) != \(cache.pageCount)")
        }
    }
}
