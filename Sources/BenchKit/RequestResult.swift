/// What happened to one request of a benchmark.
public struct RequestResult: Sendable {
    public var ok = false
    public var error: String?
    public var promptTokens = 0
    public var cachedTokens: Int?
    public var outputTokens = 0
    /// Seconds: time to first output, gaps between later outputs, whole request.
    public var ttft = 0.0
    public var itls: [Double] = []
    public var e2e = 0.0

    public init() {}
}
