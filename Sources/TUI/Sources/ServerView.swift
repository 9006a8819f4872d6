/// What the panes show of a server whose scheduler is not visible from outside (SGLang,
/// SGLang-JAX, vLLM, llama.cpp): figures from its metrics and info endpoints, and the requests
/// this cockpit sent. Built by `RemoteSource` every scrape; drawn by the timeline, cache and
/// experts panes in place of what they read from events.
public struct ServerView: Sendable, Equatable {
    /// "vLLM", "SGLang", ...
    public var kind: String
    public var running: Double?
    public var queued: Double?
    /// Share of the KV cache in use (0...1).
    public var tokenUsage: Double?
    /// Generated tokens per second, from the server's counter between scrapes or its gauge.
    public var throughput: Double?
    /// Medians of the server's histograms over the last scrape interval with observations.
    public var ttft: Double?
    public var itl: Double?
    /// Over the last scrape interval (nil when nothing was looked up in it).
    public var cacheHitRate: Double?
    /// Since the server started.
    public var overallCacheHitRate: Double?
    /// Hit rate per scrape, oldest first.
    public var hitRateSeries: [Double?] = []
    public var promptTokens: Double?
    public var generationTokens: Double?
    public var retractions: Double?
    /// Requests this cockpit sent, oldest first.
    public var requests: [RequestLane] = []
    /// Tokens routed per layer and column, where the server exposes them.
    public var expertCounts: [[Int64]]?
    /// What a column of `expertCounts` is: "experts", or "EP ranks" (SGLang's EPLB heat map).
    public var expertColumns = "experts"
    /// SGLang's EPLB balancedness (mean EP-rank load over the largest; 1 is even).
    public var balancedness: Double?
    /// What the experts pane says when there are no counts.
    public var expertNote: String

    public init(kind: String, expertNote: String) {
        self.kind = kind
        self.expertNote = expertNote
    }
}

/// One request as the client saw it, on this process's monotonic clock (ns).
public struct RequestLane: Sendable, Equatable {
    public var id: Int
    public var sent: UInt64
    public var firstToken: UInt64?
    public var lastToken: UInt64?
    public var tokens: Int
    public var finished: Bool
    public var failed: Bool

    public init(id: Int, sent: UInt64, firstToken: UInt64? = nil, lastToken: UInt64? = nil, tokens: Int = 0,
                finished: Bool = false, failed: Bool = false) {
        self.id = id
        self.sent = sent
        self.firstToken = firstToken
        self.lastToken = lastToken
        self.tokens = tokens
        self.finished = finished
        self.failed = failed
    }
}
