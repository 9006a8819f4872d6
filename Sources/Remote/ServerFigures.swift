/// A scrape's numbers under one set of meanings, whatever the server calls them.
public struct ServerFigures: Sendable, Equatable {
    public var running: Double?
    public var queued: Double?
    /// Share of the KV cache in use (0...1).
    public var tokenUsage: Double?
    /// Generated tokens per second: the server's gauge, or its counter between two scrapes.
    public var throughput: Double?
    public var promptTokens: Double?
    public var generationTokens: Double?
    /// Prompt tokens served from the prefix cache over those looked up: the server's gauge, or
    /// its counters between two scrapes (over all time for the first).
    public var cacheHitRate: Double?
    /// Since the server started: the counters' ratio, or the gauge.
    public var overallCacheHitRate: Double?
    public var cacheHitTokens: Double?
    public var cacheQueryTokens: Double?
    /// Retractions (SGLang) or preemptions (vLLM) so far.
    public var retractions: Double?
    public var ttft: Histogram?
    public var itl: Histogram?
    /// Tokens routed per layer and column, where the server exposes them: per expert
    /// (Ringside) or per expert-parallel rank (SGLang's EPLB heat map).
    public var expertCounts: [[Int64]]?
    public var expertColumns: ExpertColumns = .experts
    /// SGLang's EPLB balancedness (mean EP-rank load over the largest, averaged over layers;
    /// 1 is even): over the last scrape interval when passes were observed in it, else since start.
    public var balancedness: Double?
    /// The balancedness Summary's running sum and count, for the next scrape's interval.
    var balanceSum: Double?
    var balanceCount: Double?

    public init() {}

    /// - Parameters:
    ///   - previous: the last scrape's figures and how many seconds ago it was, for rates.
    public init(_ s: MetricsScrape, kind: ServerKind, previous: (ServerFigures, Double)? = nil) {
        let p: String
        switch kind {
        case .ringside: p = "ringside:"
        case .sglang, .sglangJAX: p = "sglang:"
        case .vllm: p = "vllm:"
        case .llamacpp: p = "llamacpp:"
        case .unknown: p = ""
        }
        switch kind {
        case .vllm:
            running = s.sum("vllm:num_requests_running")
            queued = s.sum("vllm:num_requests_waiting")
            tokenUsage = s.first(["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"])
            promptTokens = s.sum("vllm:prompt_tokens_total")
            generationTokens = s.sum("vllm:generation_tokens_total")
            cacheHitTokens = s.first(["vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"])
            cacheQueryTokens = s.first(["vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"])
            retractions = s.sum("vllm:num_preemptions_total")
            ttft = s.histogram("vllm:time_to_first_token_seconds")
            itl = s.histogram(["vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"])
        case .llamacpp:
            running = s.sum("llamacpp:requests_processing")
            queued = s.sum("llamacpp:requests_deferred")
            tokenUsage = s.sum("llamacpp:kv_cache_usage_ratio")
            throughput = s.sum("llamacpp:predicted_tokens_seconds")
            generationTokens = s.sum("llamacpp:tokens_predicted_total")
            let processed = s.sum("llamacpp:prompt_tokens_total")
            let cached = s.sum("llamacpp:prompt_tokens_cached_total")
            promptTokens = processed.map { $0 + (cached ?? 0) }
            // llama.cpp counts prompt tokens it evaluated; the cached ones come on top.
            cacheHitTokens = cached
            cacheQueryTokens = cached.map { $0 + (processed ?? 0) }
        default:
            running = s.sum(p + "num_running_reqs")
            queued = s.sum(p + "num_queue_reqs")
            tokenUsage = s.sum(p + "token_usage")
            throughput = s.sum(p + "gen_throughput")
            promptTokens = s.sum(p + "prompt_tokens_total")
            generationTokens = s.sum(p + "generation_tokens_total")
            cacheHitRate = s.sum(p + "cache_hit_rate")
            // Counters for a rate over an interval (the gauge is since start or recent).
            cacheHitTokens = s.sum(p + "cached_tokens_total")
            cacheQueryTokens = cacheHitTokens == nil ? nil : s.sum(p + "prompt_tokens_total")
            retractions = s.sum(p + "num_retracted_reqs")
            ttft = s.histogram(p + "time_to_first_token_seconds")
            itl = s.histogram([p + "inter_token_latency_seconds", p + "time_per_output_token_seconds"])
        }
        if kind == .sglang {
            expertCounts = Self.sglangExpertLoad(s)
            if expertCounts != nil { expertColumns = .ranks }
            balanceSum = s.sum("sglang:eplb_balancedness_sum")
            balanceCount = s.sum("sglang:eplb_balancedness_count")
            if let sum = balanceSum, let n = balanceCount, n > 0 {
                balancedness = sum / n
                if let ps = previous?.0.balanceSum, let pn = previous?.0.balanceCount, n > pn {
                    balancedness = (sum - ps) / (n - pn)
                }
            }
        }
        if kind == .ringside {
            var counts: [[Int64]] = []
            for x in s.samples where x.name == "ringside:expert_tokens_total" {
                guard let l = x.labels["layer"].flatMap(Int.init), let e = x.labels["expert"].flatMap(Int.init),
                      (0 ..< 4096).contains(l), (0 ..< 4096).contains(e), x.value.isFinite, x.value >= 0 else { continue }
                while counts.count <= l { counts.append([]) }
                while counts[l].count <= e { counts[l].append(0) }
                counts[l][e] += Int64(x.value)
            }
            if !counts.isEmpty { expertCounts = counts }
        }
        if let h = cacheHitTokens, let q = cacheQueryTokens, q > 0 { overallCacheHitRate = h / q }
        if cacheHitRate == nil, let h = cacheHitTokens, let q = cacheQueryTokens {
            let (ph, pq) = (previous?.0.cacheHitTokens, previous?.0.cacheQueryTokens)
            if let ph, let pq, q > pq {
                cacheHitRate = (h - ph) / (q - pq)
            } else if previous == nil || pq == nil, q > 0 {
                cacheHitRate = h / q
            }
        }
        if overallCacheHitRate == nil { overallCacheHitRate = cacheHitRate }
        // llama.cpp's gauge averages over the time since the last scrape and reads 0 while
        // its counter moves; the counter between scrapes is the better figure when it moved.
        if throughput == nil || throughput == 0, let g = generationTokens, let prev = previous,
           let pg = prev.0.generationTokens, prev.1 > 0, g > pg {
            throughput = (g - pg) / prev.1
        }
    }
}

extension ServerFigures {
    /// SGLang's expert-load metrics. `sglang:eplb_gpu_physical_count{layer}` is a histogram
    /// whose bucket `le="r"` its recorder fills with the tokens routed to EP rank r (cumulative
    /// in the exposition, so a rank's count is its bucket minus the one below);
    /// (`sglang:eplb_balancedness`, read above, is a Summary of one balancedness per pass.)
    static func sglangExpertLoad(_ s: MetricsScrape) -> [[Int64]]? {
        var byLayer: [Int: [Double: Double]] = [:]
        for x in s.samples where x.name == "sglang:eplb_gpu_physical_count_bucket" {
            guard let l = x.labels["layer"].flatMap(Int.init), (0 ..< 4096).contains(l),
                  let le = x.labels["le"].flatMap({ MetricsScrape.parseValue($0[...]) }), le >= 0, le < 4096, le == le.rounded(),
                  x.value.isFinite, x.value >= 0 else { continue }
            byLayer[l, default: [:]][le, default: 0] += x.value
        }
        var counts: [[Int64]]?
        if let layers = byLayer.keys.max() {
            let ranks = (byLayer.values.flatMap(\.keys).max().map { Int($0) } ?? 0) + 1
            var m = Array(repeating: Array(repeating: Int64(0), count: ranks), count: layers + 1)
            for (l, buckets) in byLayer {
                var below = 0.0
                for (bound, c) in buckets.sorted(by: { $0.key < $1.key }) {
                    m[l][Int(bound)] = Int64(max(0, c - below))
                    below = c
                }
            }
            counts = m
        }
        return counts
    }
}

/// What the columns of a server's expert-load matrix are.
public enum ExpertColumns: String, Sendable, Equatable {
    case experts
    case ranks = "EP ranks"
}
