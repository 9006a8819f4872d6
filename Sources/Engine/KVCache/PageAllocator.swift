/// A free list of KV pages. Allocation is all-or-nothing, so a request that does not fit
/// leaves the pool as it was.
public struct PageAllocator: Sendable {
    public let pageCount: Int
    private var free: [Int32]

    public init(pageCount: Int) {
        self.pageCount = pageCount
        free = (0 ..< Int32(pageCount)).reversed()
    }

    public var freePages: Int { free.count }

    /// Takes `n` pages, or none when fewer than `n` are free.
    public mutating func allocate(_ n: Int, into pages: inout [Int32]) -> Bool {
        guard n <= free.count else { return false }
        for _ in 0 ..< n { pages.append(free.removeLast()) }
        return true
    }

    public mutating func release<S: Sequence>(_ pages: S) where S.Element == Int32 {
        free.append(contentsOf: pages)
    }
}
