import Profiler

/// What the prefix-cache pane shows, computed from profiler events (pure, so tested apart
/// from drawing).
public struct CacheStats: Sendable, Equatable {
    /// Hit rate per window, oldest first, nil where nothing was looked up.
    public var hitRateSeries: [Double?]
    public var windowNanos: UInt64
    public var overallHitRate: Double?
    /// Hit tokens over prompt tokens of the most recent admission that looked the cache up.
    public var lastRequestHitRate: Double?
    /// Prompt tokens served from the cache instead of being prefilled.
    public var tokensSaved: Int64
    public var tokensLookedUp: Int64
    public var evictedTokens: Int64
    public var insertedTokens: Int64
    public var treeNodes: Int64?
    public var cachedPages: Int64?
    public var pageSize: Int
    public var kvPagesUsed: Int64?
    public var kvPagesTotal: Int64?

    public var cachedTokens: Int64? { cachedPages.map { $0 * Int64(pageSize) } }

    /// - Parameters:
    ///   - windows: how many hit-rate samples to keep, ending at `now`.
    ///   - pageSize: tokens per KV page (the engine's `pageSize`), to turn cached pages into tokens.
    public init(_ events: [Event], now: UInt64, windowNanos: UInt64 = 1_000_000_000, windows: Int, pageSize: Int) {
        // Never reach back before time 0: fewer windows rather than windows in the future.
        let n = min(UInt64(max(0, windows)), now / max(1, windowNanos))
        let origin = now - n * windowNanos
        hitRateSeries = n == 0 ? [] : WindowSeries(events, origin: origin, end: origin + n * windowNanos, width: windowNanos).radixHitRate
        self.windowNanos = windowNanos
        let totals = Totals(events)
        overallHitRate = totals.radixHitRate
        tokensSaved = totals.counters[.radixHitTokens] ?? 0
        tokensLookedUp = totals.counters[.radixQueryTokens] ?? 0
        evictedTokens = totals.counters[.radixEvictedTokens] ?? 0
        insertedTokens = totals.counters[.radixInsertedTokens] ?? 0
        treeNodes = totals.gauges[.radixNodes]
        cachedPages = totals.gauges[.radixCachedPages]
        kvPagesUsed = totals.gauges[.kvPagesUsed]
        kvPagesTotal = totals.gauges[.kvPagesTotal]
        self.pageSize = pageSize
        // The scheduler records a request's query tokens and then its hit tokens.
        var lastQuery: Int64 = 0
        lastRequestHitRate = nil
        for e in events where e.kind == .counter {
            if e.metric == .radixQueryTokens { lastQuery = e.value }
            if e.metric == .radixHitTokens, lastQuery > 0 { lastRequestHitRate = Double(e.value) / Double(lastQuery) }
        }
    }
}
