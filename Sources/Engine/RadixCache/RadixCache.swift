/// SGLang's radix prefix cache over KV pages.
///
/// Keys are token ids cut into whole pages, values are the KV pages holding those tokens, so
/// a request whose prompt starts with a cached page-aligned prefix reuses its pages and
/// computes only the rest. Running requests lock the path to their last matched node; only
/// unlocked leaves are evicted, least recently used first.
public final class RadixCache: @unchecked Sendable {
    // Used only by the scheduler (host) thread.

    final class Node {
        /// Tokens on the edge into this node: a whole number of pages.
        var key: [Int32]
        /// One KV page per `pageSize` tokens of `key`.
        var pages: [Int32]
        var children: [PageKey: Node] = [:]
        weak var parent: Node?
        var lockRef = 0
        var lastAccess: UInt64 = 0

        init(key: [Int32], pages: [Int32], parent: Node?) {
            self.key = key
            self.pages = pages
            self.parent = parent
        }
    }

    /// A child is found by its first page of tokens.
    struct PageKey: Hashable {
        let tokens: [Int32]
    }

    /// Counters since creation (the cockpit and /metrics read them).
    public struct Stats: Sendable, Equatable {
        public var queryTokens = 0
        public var hitTokens = 0
        public var insertedTokens = 0
        public var evictedTokens = 0
    }

    public let pageSize: Int
    let root: Node
    private var clock: UInt64 = 0
    public private(set) var stats = Stats()
    /// Pages in the tree that no running request holds.
    public private(set) var evictablePages = 0
    /// Pages in the tree on some running request's locked path.
    public private(set) var lockedPages = 0
    public private(set) var nodeCount = 0

    public init(pageSize: Int) {
        precondition(pageSize > 0)
        self.pageSize = pageSize
        root = Node(key: [], pages: [], parent: nil)
        root.lockRef = 1  // the root is never evicted
    }

    public var cachedPages: Int { evictablePages + lockedPages }

    /// A matched prefix: its pages, its length in tokens, and the node to lock.
    public struct Match {
        public let pages: [Int32]
        public var tokenCount: Int { pages.count * pageSize }
        let node: Node
        let pageSize: Int
    }

    private func tick() -> UInt64 {
        clock += 1
        return clock
    }

    private func pageKey(_ tokens: ArraySlice<Int32>) -> PageKey {
        PageKey(tokens: Array(tokens.prefix(pageSize)))
    }

    /// The longest cached page-aligned prefix of `tokens`. Splits a node when the match ends
    /// inside it, so the returned node covers exactly the match.
    /// - Parameter countStats: false for look-ups that are not requests (scheduling policy).
    public func match(_ tokens: ArraySlice<Int32>, countStats: Bool = true) -> Match {
        let now = tick()
        var node = root
        var pages: [Int32] = []
        var rest = tokens.prefix(tokens.count / pageSize * pageSize)
        node.lastAccess = now
        while !rest.isEmpty, let child = node.children[pageKey(rest)] {
            let common = commonPages(child.key[...], rest)
            if common < child.key.count / pageSize {
                let upper = split(child, atPage: common)
                upper.lastAccess = now
                pages += upper.pages
                node = upper
                break
            }
            child.lastAccess = now
            pages += child.pages
            rest = rest.dropFirst(child.key.count)
            node = child
        }
        if countStats {
            stats.queryTokens += tokens.count
            stats.hitTokens += pages.count * pageSize
        }
        return Match(pages: pages, node: node, pageSize: pageSize)
    }

    /// Whole pages that `a` and `b` share from their starts.
    private func commonPages(_ a: ArraySlice<Int32>, _ b: ArraySlice<Int32>) -> Int {
        var n = 0
        let limit = min(a.count, b.count) / pageSize
        var ia = a.startIndex, ib = b.startIndex
        while n < limit {
            if !a[ia ..< ia + pageSize].elementsEqual(b[ib ..< ib + pageSize]) { break }
            n += 1
            ia += pageSize
            ib += pageSize
        }
        return n
    }

    /// Cuts `node`'s edge after `p` pages; returns the new upper node.
    private func split(_ node: Node, atPage p: Int) -> Node {
        let parent = node.parent!
        let upper = Node(key: Array(node.key.prefix(p * pageSize)), pages: Array(node.pages.prefix(p)), parent: parent)
        upper.lockRef = node.lockRef
        upper.lastAccess = node.lastAccess
        parent.children[pageKey(node.key[...])] = upper
        node.key.removeFirst(p * pageSize)
        node.pages.removeFirst(p)
        node.parent = upper
        upper.children[pageKey(node.key[...])] = node
        nodeCount += 1
        return upper
    }

    /// Adds a sequence whose KV lives in `pages` (one per page of `tokens`; a partial last
    /// page is ignored). Returns the tree's pages for the leading part that was already
    /// cached: where they differ from `pages`, the caller's copies are duplicates to free.
    @discardableResult
    public func insert(_ tokens: ArraySlice<Int32>, pages: ArraySlice<Int32>) -> [Int32] {
        let now = tick()
        let whole = min(tokens.count / pageSize, pages.count)
        var rest = tokens.prefix(whole * pageSize)
        var restPages = pages.prefix(whole)
        var node = root
        var existing: [Int32] = []
        while !rest.isEmpty {
            node.lastAccess = now
            guard let child = node.children[pageKey(rest)] else {
                let leaf = Node(key: Array(rest), pages: Array(restPages), parent: node)
                leaf.lastAccess = now
                node.children[pageKey(rest)] = leaf
                nodeCount += 1
                // New pages are on the path of whatever locks `node`'s descendants only if
                // locked later; they start evictable.
                evictablePages += leaf.pages.count
                stats.insertedTokens += leaf.key.count
                return existing
            }
            let common = commonPages(child.key[...], rest)
            let target = common < child.key.count / pageSize ? split(child, atPage: common) : child
            target.lastAccess = now
            existing += target.pages
            rest = rest.dropFirst(common * pageSize)
            restPages = restPages.dropFirst(common)
            node = target
        }
        node.lastAccess = now
        return existing
    }

    /// Protects the path from `match.node` to the root from eviction.
    public func lock(_ match: Match) {
        var n: Node? = match.node
        while let node = n, node !== root {
            if node.lockRef == 0 {
                evictablePages -= node.pages.count
                lockedPages += node.pages.count
            }
            node.lockRef += 1
            n = node.parent
        }
    }

    public func unlock(_ match: Match) {
        var n: Node? = match.node
        while let node = n, node !== root {
            precondition(node.lockRef > 0, "unlock without lock")
            node.lockRef -= 1
            if node.lockRef == 0 {
                lockedPages -= node.pages.count
                evictablePages += node.pages.count
            }
            n = node.parent
        }
    }

    /// Frees at least `pages` pages from unlocked leaves, least recently used first, through
    /// `free`. Returns how many it freed (fewer when nothing else is evictable).
    @discardableResult
    public func evict(pages wanted: Int, free: (ArraySlice<Int32>) -> Void) -> Int {
        var leaves: [Node] = []
        collectLeaves(root, into: &leaves)
        var heap = Heap(leaves) { $0.lastAccess < $1.lastAccess }
        var freed = 0
        while freed < wanted, let leaf = heap.pop() {
            guard leaf.lockRef == 0, leaf !== root, let parent = leaf.parent else { continue }
            free(leaf.pages[...])
            freed += leaf.pages.count
            evictablePages -= leaf.pages.count
            stats.evictedTokens += leaf.key.count
            parent.children[pageKey(leaf.key[...])] = nil
            nodeCount -= 1
            if parent !== root && parent.children.isEmpty && parent.lockRef == 0 { heap.push(parent) }
        }
        return freed
    }

    private func collectLeaves(_ node: Node, into out: inout [Node]) {
        if node.children.isEmpty {
            if node !== root && node.lockRef == 0 { out.append(node) }
            return
        }
        for c in node.children.values { collectLeaves(c, into: &out) }
    }

    /// Every cached page-aligned prefix as (tokens, pages): for tests and debugging.
    public func allPrefixes() -> [(tokens: [Int32], pages: [Int32])] {
        var out: [(tokens: [Int32], pages: [Int32])] = []
        func walk(_ n: Node, _ tokens: [Int32], _ pages: [Int32]) {
            for c in n.children.values {
                for p in 1 ... c.pages.count {
                    out.append((tokens + c.key.prefix(p * pageSize), pages + c.pages.prefix(p)))
                }
                walk(c, tokens + c.key, pages + c.pages)
            }
        }
        walk(root, [], [])
        return out
    }
}
