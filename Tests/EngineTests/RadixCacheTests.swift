@testable import Engine
import Testing

/// The radix cache driven by random inserts, matches, locks and evictions, checked after every
/// step against a naive model: the set of cached page-aligned prefixes, each with its pages.
@Suite("radix cache")
struct RadixCacheTests {
    struct Naive {
        /// Cached prefixes (as token arrays) and their last page.
        var prefixes: [[Int32]: Int32] = [:]
        func longestMatch(_ q: [Int32], pageSize: Int) -> Int {
            var best = 0
            var n = pageSize
            while n <= q.count, prefixes[Array(q.prefix(n))] != nil {
                best = n
                n += pageSize
            }
            return best
        }
    }

    @Test(arguments: [1, 4, 16])
    func randomizedAgainstNaiveModel(pageSize: Int) {
        var rng = SeededGenerator(seed: UInt64(pageSize))
        let totalPages = 400
        let cache = RadixCache(pageSize: pageSize)
        var freePages = Array(Int32(0) ..< Int32(totalPages))
        var naive = Naive()
        var locks: [(RadixCache.Match, [Int32])] = []
        // A small alphabet and shared stems make prefixes collide often.
        let stems: [[Int32]] = (0 ..< 4).map { _ in (0 ..< 3 * pageSize).map { _ in Int32(rng.next() % 3) } }
        func randomSequence() -> [Int32] {
            var s = stems[Int(rng.next() % 4)]
            s.removeLast(Int(rng.next() % UInt64(s.count + 1)))
            s += (0 ..< Int(rng.next() % UInt64(4 * pageSize))).map { _ in Int32(rng.next() % 3) }
            return s
        }
        for step in 0 ..< 1500 {
            switch rng.next() % 10 {
            case 0 ..< 4:  // insert a sequence with fresh pages for its uncached part
                let seq = randomSequence()
                let whole = seq.count / pageSize
                guard freePages.count >= whole else { continue }
                let pages = Array(freePages.suffix(whole))
                freePages.removeLast(whole)
                let existing = cache.insert(seq[...], pages: pages[...])
                let dup = existing.count
                #expect(dup * pageSize == naive.longestMatch(seq, pageSize: pageSize), "step \(step): duplicates")
                for (i, p) in existing.enumerated() { #expect(naive.prefixes[Array(seq.prefix((i + 1) * pageSize))] == p) }
                freePages += pages.prefix(dup)
                for p in 1 ... max(whole, 1) where p <= whole {
                    let key = Array(seq.prefix(p * pageSize))
                    if naive.prefixes[key] == nil { naive.prefixes[key] = pages[p - 1] }
                }
            case 4 ..< 7:  // match, and sometimes lock
                let q = randomSequence()
                let m = cache.match(q[...])
                let expected = naive.longestMatch(q, pageSize: pageSize)
                #expect(m.tokenCount == expected, "step \(step): match length")
                for (i, p) in m.pages.enumerated() {
                    #expect(naive.prefixes[Array(q.prefix((i + 1) * pageSize))] == p, "step \(step): page \(i)")
                }
                if rng.next() % 2 == 0 && m.tokenCount > 0 {
                    cache.lock(m)
                    locks.append((m, Array(q.prefix(m.tokenCount))))
                }
            case 7:  // unlock
                if !locks.isEmpty {
                    let i = Int(rng.next() % UInt64(locks.count))
                    cache.unlock(locks[i].0)
                    locks.remove(at: i)
                }
            default:  // evict
                let want = Int(rng.next() % 30) + 1
                var freed: [Int32] = []
                let n = cache.evict(pages: want) { freed += $0 }
                #expect(n == freed.count)
                freePages += freed
                let remaining = Set(cache.allPrefixes().map(\.tokens))
                // Evicted prefixes are exactly the ones gone from the tree, and none was on a
                // locked path.
                var gone = 0
                for key in naive.prefixes.keys where !remaining.contains(key) {
                    gone += 1
                    for (_, path) in locks { #expect(!path.starts(with: key), "step \(step): evicted a locked prefix") }
                    naive.prefixes[key] = nil
                }
                #expect(gone == freed.count, "step \(step): evicted pages")
                #expect(n >= min(want, 1) || cache.evictablePages == 0)
            }
            // Every page is either free or in the tree, once.
            let inTree = cache.allPrefixes().count
            #expect(inTree == naive.prefixes.count, "step \(step): tree size")
            #expect(inTree == cache.cachedPages, "step \(step): page counters")
            #expect(Set(freePages).count == freePages.count && freePages.count + inTree == totalPages, "step \(step): page accounting")
        }
        for (m, _) in locks { cache.unlock(m) }
        #expect(cache.lockedPages == 0)
        cache.evict(pages: .max) { freePages += $0 }
        #expect(cache.cachedPages == 0 && freePages.count == totalPages && cache.nodeCount == 0)
    }

    @Test func statsCountHitsAndEvictions() {
        let cache = RadixCache(pageSize: 2)
        cache.insert([1, 2, 3, 4, 5][...], pages: [10, 11][...])
        let m = cache.match([1, 2, 3, 4, 9, 9][...])
        #expect(m.pages == [10, 11] && m.tokenCount == 4)
        #expect(cache.stats.queryTokens == 6 && cache.stats.hitTokens == 4 && cache.stats.insertedTokens == 4)
        #expect(cache.match([1, 2, 7, 7][...]).pages == [10])
        #expect(cache.nodeCount == 2)  // the partial match split the edge
        cache.evict(pages: 10) { _ in }
        #expect(cache.stats.evictedTokens == 4 && cache.nodeCount == 0)
    }
}
