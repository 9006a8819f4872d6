import Remote

/// What the server's own `/metrics` said about a `bench --url` run: scraped before and after,
/// the differences are the run's (plus anything else the server served meanwhile).
public struct ServerSide: Encodable, Sendable, Equatable {
    public var server_kind: String
    /// Prompt tokens found in the server's prefix cache over those looked up, during the run.
    public var cache_hit_rate: Double?
    /// Retractions (SGLang, Ringside) or preemptions (vLLM) during the run.
    public var retractions: Double?
    public var prompt_tokens: Double?
    public var generation_tokens: Double?
    /// The server's time-to-first-token histogram over the run.
    public var ttft_count: Double?
    public var mean_ttft_ms: Double?
    public var median_ttft_ms: Double?
    public var p99_ttft_ms: Double?

    public init(kind: ServerKind, before: MetricsScrape, after: MetricsScrape) {
        server_kind = kind.description
        let b = ServerFigures(before, kind: kind), a = ServerFigures(after, kind: kind)
        func delta(_ x: Double?, _ y: Double?) -> Double? { x.flatMap { x in y.map { x - $0 } } }
        if let dq = delta(a.cacheQueryTokens, b.cacheQueryTokens), dq > 0, let dh = delta(a.cacheHitTokens, b.cacheHitTokens) {
            cache_hit_rate = dh / dq
        } else {
            // A gauge (SGLang's is over its recent requests): the value at the end.
            cache_hit_rate = a.cacheHitRate
        }
        retractions = delta(a.retractions, b.retractions)
        prompt_tokens = delta(a.promptTokens, b.promptTokens)
        generation_tokens = delta(a.generationTokens, b.generationTokens)
        if let t = a.ttft?.minus(b.ttft), t.count > 0 {
            ttft_count = t.count
            mean_ttft_ms = t.mean.map { $0 * 1000 }
            median_ttft_ms = t.quantile(0.5).map { $0 * 1000 }
            p99_ttft_ms = t.quantile(0.99).map { $0 * 1000 }
        }
    }

    /// Rows for the report's table.
    var rows: [(String, String)] {
        func f(_ x: Double?, _ d: Int = 2) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "-" }
        return [
            ("Server (from /metrics)", server_kind),
            ("Server prefix cache hit rate", cache_hit_rate.map { String(format: "%.1f %%", $0 * 100) } ?? "-"),
            ("Server retractions", f(retractions, 0)),
            ("Server prompt / generated tokens", "\(f(prompt_tokens, 0)) / \(f(generation_tokens, 0))"),
            ("Server TTFT mean / p50 / p99 (ms)", "\(f(mean_ttft_ms, 1)) / \(f(median_ttft_ms, 1)) / \(f(p99_ttft_ms, 1))"),
        ]
    }
}
