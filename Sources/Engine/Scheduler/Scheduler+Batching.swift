import Profiler

/// Building a step: continue chunked prefills, admit waiting requests under the token budget
/// (SGLang's PrefillAdder), and let every running request decode one token. Prefill chunks and
/// decodes share one forward pass (a mixed batch) so running requests never stall.
extension Scheduler {
    func buildBatch() -> (DeviceBatch, [Req])? {
        let id = recorder.newBatchID()
        recorder.begin(.host, .schedule, batch: id)
        defer { recorder.end(.host, .schedule, batch: id) }
        let b = takeBatch(id: id)
        var reqs: [Req] = []

        // Decodes first: each running request past its prefill feeds its newest token.
        var decoders = running.filter(decodesNext)
        decoders = ensureDecodeMemory(decoders)
        if speculating { recorder.begin(.host, .draft, batch: id) }
        // The step's width and expected tokens so far (every decoder at one token, plus the
        // drafts chosen), for how many drafts the next request adds.
        var width = decoders.count, expected = Double(decoders.count)
        for r in decoders where reserveSlots(r, upTo: r.length) {
            let p = r.length - 1
            // A verification feeds the newest token and the drafts after it, logits for all.
            let drafts = !speculating ? 0 : draftSource != nil ? prepareSourceDrafts(r, width: width, tokens: expected)
                : prepareDrafts(r, width: width, tokens: expected)
            if drafts > 0 {
                width += drafts
                expected += acceptance.expectedTokens(drafts: r.draftDepth, class: r.draftClass) - 1
            }
            var treeStart = -1
            if drafts > 0 && draftIsTree {
                treeStart = b.treeParents.count
                for i in 0 ... drafts { b.treeParents.append(Int32(parentScratch[i])) }
                b.forward.appendTree(tokens: draftScratch[0 ... drafts], parents: parentScratch[0 ... drafts], rootPosition: p,
                                     slotRow: r.row * slots.maxContext)
            } else if drafts > 0 {
                b.forward.append(tokens: draftScratch[0 ... drafts], startPosition: p, slotRow: r.row * slots.maxContext, allLogits: true)
            } else {
                b.forward.append(tokens: CollectionOfOne(r.token(at: p)), startPosition: p, slotRow: r.row * slots.maxContext)
            }
            b.seqs.append(.init(row: r.row, sample: true, state: r.sampling, drafts: drafts, treeStart: treeStart,
                                catchUpFrom: drafts > 0 && draftSource != nil ? scheduleCatchUp(r, root: p, into: b) : -1))
            r.kvComputed = r.length + drafts
            r.pending += 1
            reqs.append(r)
        }
        if speculating { recorder.end(.host, .draft, batch: id) }
        let decodeCount = reqs.count

        // Then prefill chunks: requests already admitted, then new admissions.
        var budget = Budget(tokens: config.maxPrefillTokens, pages: availablePages - decodeReserve())
        // A chunked prefill's next chunk needs no sampled token, so it goes out even while
        // the previous chunk is still on the device.
        for r in running where r.inPrefill && !r.isDone {
            if !schedulePrefill(r, into: b, budget: &budget) { break }
            reqs.append(r)
        }
        admit(into: b, reqs: &reqs, budget: &budget)

        guard !reqs.isEmpty else {
            returnSpare(b)
            if inFlight.isEmpty {
                // A request ended here (cut at the pool's end) has no batch to retire it.
                retireDone()
                breakPrefillStall()
            }
            return nil
        }
        b.kind = decodeCount == reqs.count ? .decode : decodeCount == 0 ? .prefill : .mixed
        return (b, reqs)
    }

    /// A running request past its prefill whose newest token is due, within its context.
    func decodesNext(_ r: Req) -> Bool {
        !r.inPrefill && r.wantsMore && r.kvComputed == r.length - 1 && r.length < maxSequenceTokens
    }

    /// Token and page budget of one step's prefills.
    struct Budget {
        var tokens: Int
        var pages: Int
    }

    /// Pages that running decoders will still need, scaled by how much of their budget they
    /// are expected to use.
    func decodeReserve() -> Int {
        var tokens = 0.0
        for r in running where !r.isDone { tokens += expectedDecodeTokens(r) }
        return Int(tokens) / cache.pageSize + running.count
    }

    /// Tokens `r` is expected still to decode: what its budget leaves (at most 1024, so one
    /// long budget does not block admission) times `newTokenRatio`. Tokens sampled but not yet
    /// seen (`pending`) are spent already; a waiting request has none, since retraction
    /// happens only when no batch is in flight.
    func expectedDecodeTokens(_ r: Req) -> Double {
        Double(min(r.params.maxTokens - r.output.count - r.pending, 1024)) * newTokenRatio
    }

    /// Schedules the next chunk of `r`'s prefill; false when the budget is spent.
    private func schedulePrefill(_ r: Req, into b: DeviceBatch, budget: inout Budget) -> Bool {
        let target = r.prompt.count + r.output.count
        // A chunk is all prompt or all generated tokens (a retracted request recomputes both):
        // prompt tokens may take bf16 products, generated ones are computed as they were decoded.
        let inPrompt = r.kvComputed < r.prompt.count
        let chunk = min((inPrompt ? r.prompt.count : target) - r.kvComputed, config.chunkedPrefillSize, budget.tokens)
        guard chunk > 0 else { return false }
        let ps = cache.pageSize
        let pagesNeeded = (r.kvComputed + chunk + ps - 1) / ps - r.pages.count
        guard pagesNeeded <= budget.pages, reserveSlots(r, upTo: r.kvComputed + chunk) else { return false }
        budget.tokens -= chunk
        budget.pages -= max(pagesNeeded, 0)
        let start = r.kvComputed
        let final = start + chunk == target
        b.forward.append(tokens: (start ..< start + chunk).lazy.map { r.token(at: $0) }, startPosition: start,
                         slotRow: r.row * slots.maxContext, prompt: inPrompt)
        b.seqs.append(.init(row: r.row, sample: final, state: r.sampling))
        r.kvComputed = start + chunk
        if final {
            r.pending += 1
            r.prefilled = true
        }
        cacheUnfinished(r)
        return true
    }

    /// Admits waiting requests in policy order while the budget, the running limit and free
    /// rows allow. A request that shares an uncached prefix with one admitted in this same
    /// step waits one step, so the shared part is computed once and then found in the tree.
    private func admit(into b: DeviceBatch, reqs: inout [Req], budget: inout Budget) {
        guard !waiting.isEmpty else { return }
        orderWaiting()
        var admittedPrompts: [[Int32]] = []
        var i = 0
        while i < waiting.count {
            guard running.count < config.maxRunningRequests, budget.tokens > 0, slots.freeRowCount > 0 else { break }
            let r = waiting[i]
            let all = r.prompt + r.output
            // Match all but the last token: the last one must be computed for its logits.
            let match = tree?.match(all.dropLast()[...])
            let cached = match?.tokenCount ?? 0
            if tree != nil, let shared = admittedPrompts.map({ commonPrefix($0, all) }).max(),
               shared >= cached + max(cache.pageSize, 32) {
                i += 1
                continue
            }
            let ps = cache.pageSize
            let chunk = min(all.count - cached, config.chunkedPrefillSize, budget.tokens)
            // Alone, a request needs no reserve: it may always start, and ends with `length`
            // if it outgrows the whole pool. Waiting for a reserve that can never exist hangs.
            let decodeNeed = running.isEmpty ? 0 : Int(expectedDecodeTokens(r)) / ps + 1
            let pagesNeeded = (cached + chunk + ps - 1) / ps - (match?.pages.count ?? 0) + decodeNeed
            if pagesNeeded > budget.pages { break }
            budget.pages -= decodeNeed

            waiting.remove(at: i)
            r.row = slots.allocateRow()!
            if let m = match, let t = tree {
                t.lock(m)
                r.lockedPrefix = m
                r.pages = m.pages
                r.treePages = m.pages.count
                let row = slots.row(r.row)
                for p in 0 ..< cached { row[p] = m.pages[p / ps] * Int32(ps) + Int32(p % ps) }
                recorder.count(.host, .radixQueryTokens, all.count)
                recorder.count(.host, .radixHitTokens, cached)
            }
            r.kvComputed = cached
            // The MTP layer's KV of a cached prefix is what others left; its last position is
            // redone with this request's next token.
            r.mtpComputed = mtpCoverage?.firstStale(row: slots.row(r.row), from: 0, to: cached - 1) ?? 0
            if r.cachedPromptTokens == nil { r.cachedPromptTokens = min(cached, r.prompt.count) }
            if r.admitted == nil { r.admitted = Recorder.now() }
            running.append(r)
            admittedPrompts.append(all)
            if schedulePrefill(r, into: b, budget: &budget) {
                reqs.append(r)
            } else {
                // Could not get its pages after all: back to the front of the queue.
                running.removeAll { $0 === r }
                releaseKV(r)
                waiting.insert(r, at: 0)
                break
            }
        }
    }

    private func commonPrefix(_ a: [Int32], _ b: [Int32]) -> Int {
        var n = 0
        while n < a.count, n < b.count, a[n] == b[n] { n += 1 }
        return n / cache.pageSize * cache.pageSize
    }

    /// fcfs keeps arrival order; lpm puts the longest cached prefix first (and falls back to
    /// fcfs for long queues, where matching every request each step would cost too much).
    private func orderWaiting() {
        guard config.schedulePolicy == .lpm, let t = tree, waiting.count > 1, waiting.count <= 128 else { return }
        let keyed = waiting.enumerated().map { (i, r) in
            (r, t.match((r.prompt + r.output).dropLast()[...], countStats: false).tokenCount, i)
        }
        waiting = keyed.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 < $1.2 }.map(\.0)
    }

    /// Decoders whose next page can be had. When the pool is dry: wait for batches in flight to
    /// finish (they may free pages), then retract the request with the fewest generated tokens
    /// (ties: the longest prompt), a decoder or a prefill holding pages, back to the queue
    /// until the rest fit. Only a decoder that holds the pool alone and still cannot grow is
    /// ended, with `length`: it has outgrown the whole KV pool.
    private func ensureDecodeMemory(_ decoders: [Req]) -> [Req] {
        var ds = decoders
        func pagesNeeded() -> Int {
            ds.reduce(0) { $0 + max(0, ($1.length + cache.pageSize - 1) / cache.pageSize - $1.pages.count) }
        }
        while pagesNeeded() > availablePages {
            if !inFlight.isEmpty {
                drainInFlight()
                ds = running.filter(decodesNext)
                continue
            }
            let holders = running.filter { r in !r.isDone && (r.inPrefill || ds.contains { $0 === r }) }
            guard holders.count > 1 else {
                if let r = ds.first { finish(r, .length) }
                return []
            }
            let victim = holders.min { ($0.output.count, -$0.prompt.count) < ($1.output.count, -$1.prompt.count) }!
            ds.removeAll { $0 === victim }
            retract(victim)
            newTokenRatio = min(1, newTokenRatio + 0.2)
        }
        if pagesNeeded() == 0 { newTokenRatio = max(0.1, newTokenRatio - 0.001) }
        return ds
    }

    /// Nothing could be scheduled and nothing is in flight, yet requests are running: chunked
    /// prefills that between them hold the pool, each waiting for pages the other has. The one
    /// that computed least goes back to the queue (its work stays in the tree, evictable) so
    /// the others can go on.
    private func breakPrefillStall() {
        let stalled = running.filter { !$0.isDone }
        guard stalled.count > 1 else { return }
        let victim = stalled.min { ($0.output.count, $0.kvComputed) < ($1.output.count, $1.kvComputed) }!
        retract(victim)
        newTokenRatio = min(1, newTokenRatio + 0.2)
    }
}
