import Profiler

/// KV pages: allocation with eviction, the radix inserts that share a request's pages, and
/// giving everything back.
extension Scheduler {
    /// Takes `n` pages, evicting unlocked cached prefixes if the free list runs short.
    func allocatePages(_ n: Int, into pages: inout [Int32]) -> Bool {
        guard n > 0 else { return true }
        if cache.allocator.freePages < n, let t = tree {
            let before = t.stats.evictedTokens
            t.evict(pages: n - cache.allocator.freePages) { cache.allocator.release($0) }
            recorder.count(.host, .radixEvictedTokens, t.stats.evictedTokens - before)
        }
        return cache.allocator.allocate(n, into: &pages)
    }

    /// Pages that could be had now: free ones and evictable cached ones.
    var availablePages: Int { cache.allocator.freePages + (tree?.evictablePages ?? 0) }

    /// Makes sure `r` has pages for positions up to `length` and writes their slots into its
    /// row of the request-to-token table.
    func reserveSlots(_ r: Req, upTo length: Int) -> Bool {
        let ps = cache.pageSize
        let need = (length + ps - 1) / ps - r.pages.count
        if need > 0 && !allocatePages(need, into: &r.pages) { return false }
        let row = slots.row(r.row)
        for p in r.kvComputed ..< length {
            row[p] = r.pages[p / ps] * Int32(ps) + Int32(p % ps)
        }
        return true
    }

    /// Puts the request's computed (or scheduled) page-aligned tokens into the radix tree, so
    /// others can share them, and moves its lock to the new deepest node. Where the tree
    /// already had those pages, the request switches to the tree's and frees its own.
    func cacheUnfinished(_ r: Req) {
        guard let t = tree else { return }
        let ps = cache.pageSize
        let whole = min(r.kvComputed, r.prompt.count + r.output.count) / ps
        guard whole > r.treePages else { return }
        let tokens = tokensOf(r, count: whole * ps)
        let before = t.stats.insertedTokens
        let existing = t.insert(tokens[...], pages: r.pages[0 ..< whole])
        recorder.count(.host, .radixInsertedTokens, t.stats.insertedTokens - before)
        adoptTreePages(r, existing: existing)
        let m = t.match(tokens[...], countStats: false)
        t.lock(m)
        if let old = r.lockedPrefix { t.unlock(old) }
        r.lockedPrefix = m
        r.treePages = whole
    }

    /// After an insert: where the tree already held a page for the same tokens, use the tree's
    /// and free ours. Device order makes this safe even while our copy is being written: any
    /// batch that reuses the freed page runs after the one writing it.
    private func adoptTreePages(_ r: Req, existing: [Int32]) {
        let ps = cache.pageSize
        let row = slots.row(r.row)
        for i in r.treePages ..< existing.count where r.pages[i] != existing[i] {
            cache.allocator.release(CollectionOfOne(r.pages[i]))
            r.pages[i] = existing[i]
            for p in i * ps ..< (i + 1) * ps { row[p] = existing[i] * Int32(ps) + Int32(p % ps) }
            // The tree's copy may lack the MTP layer's KV that ours had.
            if let c = mtpCoverage, r.mtpComputed > i * ps {
                r.mtpComputed = min(r.mtpComputed, c.firstStale(row: row, from: i * ps, to: (i + 1) * ps))
            }
        }
    }

    func tokensOf(_ r: Req, count: Int) -> [Int32] {
        count <= r.prompt.count ? Array(r.prompt.prefix(count)) : r.prompt + r.output.prefix(count - r.prompt.count)
    }

    /// Gives back everything `r` holds: its computed prefix goes into the tree (so a retried or
    /// similar request finds it), the rest of its pages to the free list, its row and lock.
    func releaseKV(_ r: Req) {
        if r.row >= 0 {
            cacheUnfinished(r)
            if r.pages.count > r.treePages { cache.allocator.release(r.pages[r.treePages...]) }
            if let m = r.lockedPrefix { tree?.unlock(m) }
            slots.release(row: r.row)
        }
        r.lockedPrefix = nil
        r.pages.removeAll()
        r.treePages = 0
        r.row = -1
        r.kvComputed = 0
        r.mtpComputed = 0
        r.prefilled = false
    }

    /// Sends `r` back to the queue with its output kept; its KV stays findable in the tree.
    func retract(_ r: Req) {
        releaseKV(r)
        r.retracted += 1
        retractedCount += 1
        running.removeAll { $0 === r }
        waiting.insert(r, at: 0)
        recorder.count(.host, .retractedRequests, 1)
    }
}
