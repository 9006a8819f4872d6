/// Speculative steps whose drafts come from a `DraftSource` other than the n-gram drafters: the
/// MTP layer's, which the device computes just before verifying them (`NextNDrafter`). The host
/// decides whether a step speculates and how many drafts each request offers, as for n-gram
/// drafts, from the measured step costs and the acceptance of earlier MTP drafts (one class of
/// `AcceptanceTable`); drafts are always there to offer, so no request is skipped for want of a
/// match.
extension Scheduler {
    func decideSourceSpeculation() -> Bool {
        guard let spec = config.speculative, let decoders = gatedDecoders(spec) else { return false }
        guard spec.measuredGate, spec.draftsByCost else { return true }
        // One class of drafts: the MTP layer's acceptance does not depend on a match length.
        let k = stepCosts.bestDrafts(available: spec.maxDrafts, width: decoders, tokens: Double(decoders)) {
            acceptance.expectedTokens(drafts: $0, class: Self.nextNClass)
        }
        if k > 0 { return true }
        acceptance.fade(class: Self.nextNClass)
        return false
    }

    static let nextNClass = 0

    /// `prepareDrafts` for a draft source: a chain of up to `maxDrafts` placeholders in
    /// `draftScratch[1...]`, with their KV slots reserved (the device's draft chain writes the
    /// MTP layer's KV into the first ones too); returns how many.
    func prepareSourceDrafts(_ r: Req, width: Int, tokens: Double) -> Int {
        guard draftSource != nil, let spec = config.speculative, r.pending == 0 else { return 0 }
        let limit = min(spec.maxDrafts, r.params.maxTokens - r.output.count - 1, maxSequenceTokens - 1 - r.length)
        guard limit > 0 else { return 0 }
        draftScratch.removeAll(keepingCapacity: true)
        draftScratch.append(r.token(at: r.length - 1))
        parentScratch.removeAll(keepingCapacity: true)
        parentScratch.append(-1)
        let found = draftSource!.propose(prompt: r.prompt, output: r.output, limit: limit, tokens: &draftScratch, parents: &parentScratch)
        var k = found
        if spec.draftsByCost {
            k = stepCosts.bestDrafts(available: found, width: width, tokens: tokens) {
                acceptance.expectedTokens(drafts: $0, class: Self.nextNClass)
            }
        }
        guard k > 0 else {
            acceptance.fade(class: Self.nextNClass)
            return 0
        }
        draftScratch.removeSubrange((k + 1)...)
        parentScratch.removeSubrange((k + 1)...)
        draftIsTree = false
        let ps = cache.pageSize
        let need = (r.length + k + ps - 1) / ps - r.pages.count
        guard need <= cache.allocator.freePages, reserveSlots(r, upTo: r.length + k) else { return 0 }
        r.draftDepth = k
        r.draftClass = Self.nextNClass
        return k
    }

    /// The MTP layer's catch-up before `r` drafts with its newest token at `root`: positions
    /// from `mtpComputed` up to root - 1, given the tokens after them (all seen: a speculative
    /// step drained the batches in flight); the last one leaves the guess for draft 1. After a
    /// verification there is none: the device ran the layer over its accepted positions
    /// (`settleVerified`). Returns where the catch-up starts.
    func scheduleCatchUp(_ r: Req, root: Int, into b: DeviceBatch) -> Int {
        let from = min(r.mtpComputed, root)
        for q in from ..< root { b.catchUpTokens.append(r.token(at: q + 1)) }
        mtpCoverage?.caughtUp(row: slots.row(r.row), from: from, to: root)
        r.mtpComputed = root
        return from
    }
}
