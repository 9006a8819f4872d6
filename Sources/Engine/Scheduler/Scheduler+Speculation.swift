import Profiler

/// Speculative decoding on the host: whether a step speculates, the drafts of each decoding
/// request and their KV slots, and settling a verified sequence (its KV length and pages
/// follow the accepted length).
extension Scheduler {
    /// Whether the step about to be built speculates: always when the gate is off, else when
    /// speculative steps measured faster than plain ones at this many decoding requests.
    func decideSpeculation() -> Bool {
        guard let spec = config.speculative, let drafter, let decoders = gatedDecoders(spec) else { return false }
        guard spec.measuredGate, spec.draftsByCost else { return true }
        // A speculative step gives up the overlap; where no request's match (on the tokens seen
        // so far) would let it offer a draft even if all were found, it would give it up for
        // nothing. Classes held back fade toward the prior meanwhile, so that they are tried
        // again later.
        for r in running where !r.inPrefill && !r.isDone {
            let m = drafter.longestMatch(prompt: r.prompt, output: r.output).length
            guard m > 0 else { continue }
            let c = AcceptanceTable.matchClass(m)
            let k = stepCosts.bestDrafts(available: spec.maxDrafts, width: decoders, tokens: Double(decoders)) {
                acceptance.expectedTokens(drafts: $0, class: c)
            }
            if k > 0 { return true }
            acceptance.fade(class: c)
        }
        return false
    }

    /// The decoding requests of the step about to be built, or nil when it has none or the
    /// measured gate says speculating would not pay at this many.
    func gatedDecoders(_ spec: SpeculativeConfig) -> Int? {
        var decoders = 0
        for r in running where !r.inPrefill && !r.isDone { decoders += 1 }
        guard decoders > 0, spec.measuredGate ? gate.shouldSpeculate(decoders: decoders) : steps % spec.speculateEvery == 0 else { return nil }
        return decoders
    }

    /// Drafts for `r`'s next step in `draftScratch[1...]` (after its newest token at index 0),
    /// with KV slots reserved for them; returns how many. A tree's parents are in
    /// `parentScratch` (`draftIsTree`); a chain's drafts each follow the one before. Bounded by
    /// `max_tokens` and the context, and by free pages: drafts never evict cached prefixes or
    /// retract anyone.
    ///
    /// How many of the drafts found it offers is `StepCosts.bestDrafts` for a step that so far
    /// has `width` tokens expected to emit `tokens`, with what the drafts are expected to emit
    /// from the acceptance of earlier drafts of their match length (`AcceptanceTable`).
    func prepareDrafts(_ r: Req, width: Int, tokens: Double) -> Int {
        guard let drafter, let spec = config.speculative, r.pending == 0 else { return 0 }
        let limit = min(spec.maxDrafts, r.params.maxTokens - r.output.count - 1, maxSequenceTokens - 1 - r.length)
        guard limit > 0 else { return 0 }
        draftScratch.removeAll(keepingCapacity: true)
        draftScratch.append(r.token(at: r.length - 1))
        parentScratch.removeAll(keepingCapacity: true)
        parentScratch.append(-1)
        let found: Int, matchLength: Int
        if treeDrafter != nil {
            found = treeDrafter!.propose(prompt: r.prompt, output: r.output, limit: limit, tokens: &draftScratch, parents: &parentScratch)
            matchLength = treeDrafter!.matchLength
        } else {
            let m = drafter.longestMatch(prompt: r.prompt, output: r.output)
            found = drafter.propose(prompt: r.prompt, output: r.output, limit: limit, into: &draftScratch, match: m)
            matchLength = m.length
            if found > 0 { for i in 1 ... found { parentScratch.append(i - 1) } }
        }
        guard found > 0 else { return 0 }
        // A tree's first k nodes are a tree too (nodes come after their parents); they are
        // expected to emit what a chain as deep as their deepest path would.
        let c = AcceptanceTable.matchClass(matchLength)
        var k = found
        if spec.draftsByCost {
            k = stepCosts.bestDrafts(available: found, width: width, tokens: tokens) {
                acceptance.expectedTokens(drafts: deepestPath(upTo: $0), class: c)
            }
        }
        guard k > 0 else {
            acceptance.fade(class: c)
            return 0
        }
        draftScratch.removeSubrange((k + 1)...)
        parentScratch.removeSubrange((k + 1)...)
        draftIsTree = false
        for i in 1 ... k where parentScratch[i] != i - 1 { draftIsTree = true }
        let ps = cache.pageSize
        let need = (r.length + k + ps - 1) / ps - r.pages.count
        guard need <= cache.allocator.freePages, reserveSlots(r, upTo: r.length + k) else { return 0 }
        r.draftDepth = deepestPath(upTo: k)
        r.draftClass = c
        return k
    }

    /// The deepest path among draft nodes 1 ... k of `parentScratch`.
    private func deepestPath(upTo k: Int) -> Int {
        var deepest = 0
        for i in stride(from: 1, through: k, by: 1) {
            var d = 0, n = i
            while n > 0 {
                n = parentScratch[n]
                d += 1
            }
            deepest = max(deepest, d)
        }
        return deepest
    }

    /// After a verification of `drafts` drafts that emitted `emitted` tokens (before they are
    /// appended): positions up to the last accepted draft hold valid KV; the rejected drafts'
    /// slots are overwritten by the next step, and pages wholly past it go back to the pool.
    func settleVerified(_ r: Req, drafts: Int, emitted: Int) {
        acceptance.record(class: r.draftClass, offered: r.draftDepth, accepted: emitted - 1)
        let root = r.prompt.count + r.output.count - 1
        r.kvComputed = root + emitted
        if mtpCoverage != nil {
            // nextn (chains only): the device ran the MTP layer over the root and the accepted
            // drafts, each given the token emitted after it (`NextNDrafter.extendVerified`).
            mtpCoverage!.caughtUp(row: slots.row(r.row), from: root, to: root + emitted)
            r.mtpComputed = root + emitted
        }
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
        guard let spec = config.speculative, b.kind == .decode, b.deviceEnd > b.deviceStart else { return }
        let switching = switchingCost(b, spec)
        let busy = b.deviceEnd - b.deviceStart - switching
        stepCosts.record(width: b.newTokens, seconds: Double(busy) / 1e9)
        guard spec.measuredGate, lastDeviceEnd > 0, b.deviceEnd > lastDeviceEnd else { return }
        let since = b.deviceEnd - lastDeviceEnd - switching
        guard since < 3 * busy else { return }
        var tokens = 0
        for c in b.counts { tokens += c }
        gate.record(speculative: b.speculative, decoders: b.seqs.count, tokens: tokens, seconds: Double(since) / 1e9)
    }

    /// The part of a step's MTP catch-up (nextn) not charged to it: a catch-up covers what
    /// prefill and plain steps left (back-to-back verifications find nothing to catch up), a
    /// cost of switching that speculating again pays once and the plain steps saved. Up to
    /// 1 + drafts positions a sequence, what one plain step leaves, are charged.
    private func switchingCost(_ b: DeviceBatch, _ spec: SpeculativeConfig) -> UInt64 {
        let positions = b.catchUpTokens.count
        guard positions > 0, b.catchUpNanos > 0 else { return 0 }
        var own = 0
        for s in b.seqs where s.catchUpFrom >= 0 { own += spec.maxDrafts + 1 }
        guard positions > own else { return 0 }
        return b.catchUpNanos * UInt64(positions - own) / UInt64(positions)
    }
}
