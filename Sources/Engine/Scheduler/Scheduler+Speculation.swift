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
        return spec.measuredGate ? gate.shouldSpeculate(decoders: decoders) : true
    }

    /// Drafts for `r`'s next step in `draftScratch[1...]` (after its newest token at index 0),
    /// with KV slots reserved for them; returns how many. Bounded by the request's budget and
    /// context, and by free pages: drafts never evict cached prefixes or retract anyone.
    func prepareDrafts(_ r: Req) -> Int {
        guard let drafter, let spec = config.speculative, r.pending == 0 else { return 0 }
        let limit = min(spec.maxDrafts, r.params.maxTokens - r.output.count - 1, maxSequenceTokens - 1 - r.length)
        guard limit > 0 else { return 0 }
        draftScratch.removeAll(keepingCapacity: true)
        draftScratch.append(r.token(at: r.length - 1))
        let k = drafter.propose(prompt: r.prompt, output: r.output, limit: limit, into: &draftScratch)
        guard k > 0 else { return 0 }
        let ps = cache.pageSize
        let need = (r.length + k + ps - 1) / ps - r.pages.count
        guard need <= cache.allocator.freePages, reserveSlots(r, upTo: r.length + k) else { return 0 }
        return k
    }

    /// After a verification of `drafts` drafts that emitted `emitted` tokens (before they are
    /// appended): positions up to the last accepted draft hold valid KV; the rejected drafts'
    /// slots are overwritten by the next step, and pages wholly past it go back to the pool.
    func settleVerified(_ r: Req, drafts: Int, emitted: Int) {
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
        guard config.speculative?.measuredGate == true, b.kind == .decode, lastDeviceEnd > 0, b.deviceEnd > lastDeviceEnd else { return }
        let busy = b.deviceEnd - b.deviceStart, since = b.deviceEnd - lastDeviceEnd
        guard since < 3 * busy else { return }
        var tokens = 0
        for c in b.counts { tokens += c }
        gate.record(speculative: b.speculative, decoders: b.seqs.count, tokens: tokens, seconds: Double(since) / 1e9)
    }
}
