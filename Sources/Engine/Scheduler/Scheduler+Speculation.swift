import Profiler

/// Speculative decoding on the host: whether a step speculates, the drafts of each decoding
/// request and their KV slots, and settling a verified sequence (its KV length and pages
/// follow the accepted length).
extension Scheduler {
    /// Whether the step about to be built speculates: always when the gate is off, else when
    /// speculative steps measured faster than plain ones at this many decoding requests.
    func decideSpeculation() -> Bool {
        guard let spec = config.speculative, drafter != nil else { return false }
        var decoders = 0
        for r in running where !r.inPrefill && !r.isDone { decoders += 1 }
        guard decoders > 0 else { return false }
        guard spec.measuredGate else { return true }
        guard gate.shouldSpeculate(decoders: decoders) else { return false }
        // A speculative step gives up the overlap; where no request's record would let it offer
        // a draft even if seven were found, it would give it up for nothing. Their records fade
        // toward the prior meanwhile, so that drafts are tried again later.
        guard spec.draftsByCost else { return true }
        var any = false
        for r in running where !r.inPrefill && !r.isDone {
            if stepCosts.bestDrafts(available: spec.maxDrafts, rate: r.draftAcceptRate, width: decoders, tokens: Double(decoders)) > 0 {
                any = true
            } else {
                r.fadeDraftRecord()
            }
        }
        return any
    }

    /// Drafts for `r`'s next step in `draftScratch[1...]` (after its newest token at index 0),
    /// with KV slots reserved for them; returns how many. A tree's parents are in
    /// `parentScratch` (`draftIsTree`); a chain's drafts each follow the one before. Bounded by
    /// `max_tokens` and the context, and by free pages: drafts never evict cached prefixes or
    /// retract anyone.
    ///
    /// How many of the drafts found it offers is `StepCosts.bestDrafts` for a step that so far
    /// has `width` tokens expected to emit `tokens`.
    func prepareDrafts(_ r: Req, width: Int, tokens: Double) -> Int {
        guard let drafter, let spec = config.speculative, r.pending == 0 else { return 0 }
        let limit = min(spec.maxDrafts, r.params.maxTokens - r.output.count - 1, maxSequenceTokens - 1 - r.length)
        guard limit > 0 else { return 0 }
        draftScratch.removeAll(keepingCapacity: true)
        draftScratch.append(r.token(at: r.length - 1))
        parentScratch.removeAll(keepingCapacity: true)
        parentScratch.append(-1)
        let found: Int
        if treeDrafter != nil {
            found = treeDrafter!.propose(prompt: r.prompt, output: r.output, limit: limit, tokens: &draftScratch, parents: &parentScratch)
        } else {
            found = drafter.propose(prompt: r.prompt, output: r.output, limit: limit, into: &draftScratch)
            if found > 0 { for i in 1 ... found { parentScratch.append(i - 1) } }
        }
        // A tree's first k nodes are a tree too: nodes come after their parents.
        let k = spec.draftsByCost ? stepCosts.bestDrafts(available: found, rate: r.draftAcceptRate, width: width, tokens: tokens) : found
        guard k > 0 else {
            r.fadeDraftRecord()
            return 0
        }
        draftScratch.removeSubrange((k + 1)...)
        parentScratch.removeSubrange((k + 1)...)
        draftIsTree = false
        for i in 1 ... k where parentScratch[i] != i - 1 { draftIsTree = true }
        let ps = cache.pageSize
        let need = (r.length + k + ps - 1) / ps - r.pages.count
        guard need <= cache.allocator.freePages, reserveSlots(r, upTo: r.length + k) else { return 0 }
        // The deepest path, to know whether a verification accepted a whole one.
        var depth = 0
        for i in 1 ... k { depth = max(depth, treeDepth(i)) }
        r.draftDepth = depth
        return k
    }

    private func treeDepth(_ i: Int) -> Int {
        var d = 0, n = i
        while n > 0 {
            n = parentScratch[n]
            d += 1
        }
        return d
    }

    /// After a verification of `drafts` drafts that emitted `emitted` tokens (before they are
    /// appended): positions up to the last accepted draft hold valid KV; the rejected drafts'
    /// slots are overwritten by the next step, and pages wholly past it go back to the pool.
    func settleVerified(_ r: Req, drafts: Int, emitted: Int) {
        // Acceptance of the last dozen or so verifications, for the next draft count.
        r.draftsAccepted = 0.9 * r.draftsAccepted + Double(emitted - 1)
        r.draftsRejected = 0.9 * r.draftsRejected + (emitted - 1 < r.draftDepth ? 1 : 0)
        r.kvComputed = r.prompt.count + r.output.count - 1 + emitted
        let keep = (r.kvComputed + cache.pageSize) / cache.pageSize
        if r.pages.count > keep {
            cache.allocator.release(r.pages[keep...])
            r.pages.removeSubrange(keep...)
        }
        recorder.count(.host, .specVerifies, 1)
        recorder.count(.host, .specDraftTokens, drafts)
        recorder.count(.host, .specAcceptedTokens, emitted - 1, a: drafts)
    }

    /// Feeds the gate: tokens a decode step emitted over the time since the previous batch
    /// left the device (which, for a speculative step, includes the host work the device
    /// waited for). A step after the engine sat idle is not a step time and is skipped.
    func measureStep(_ b: DeviceBatch) {
        defer { lastDeviceEnd = b.deviceEnd }
        guard config.speculative != nil, b.kind == .decode, b.deviceEnd > b.deviceStart else { return }
        let busy = b.deviceEnd - b.deviceStart
        stepCosts.record(width: b.newTokens, seconds: Double(busy) / 1e9)
        guard config.speculative?.measuredGate == true, lastDeviceEnd > 0, b.deviceEnd > lastDeviceEnd else { return }
        let since = b.deviceEnd - lastDeviceEnd
        guard since < 3 * busy else { return }
        var tokens = 0
        for c in b.counts { tokens += c }
        gate.record(speculative: b.speculative, decoders: b.seqs.count, tokens: tokens, seconds: Double(since) / 1e9)
    }
}
