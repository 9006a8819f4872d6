import Prometheus

/// Histogram buckets in seconds. Request latencies as SGLang's, but reaching down further: a CPU
/// engine's small models answer in milliseconds too.
enum Buckets {
    static let ttft = [0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 120, 160]
    static let itl = [0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2,
                      0.4, 0.6, 0.8, 1, 2, 4, 6, 8]
    static let e2e = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
    static let queue = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]
    /// Device idle gaps between batches: tens of microseconds when the overlap works.
    static let gap = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                      0.1, 0.25, 0.5, 1]
}

/// Every family `/metrics` serves, registered once in swift-prometheus's registry: SGLang's names
/// under `ringside:` (an SGLang dashboard needs only the prefix changed), then what only Ringside
/// knows. Counters and histograms move as events happen; gauges are set at each scrape.
struct MetricFamilies: Sendable {
    static let prefix = "ringside:"
    let registry: PrometheusCollectorRegistry

    let runningRequests, queuedRequests, usedTokens, tokenUsage, cacheHitRate, genThroughput: Gauge
    let promptTokens, generationTokens, cachedTokens, requests, abortedRequests: Counter
    /// A gauge under SGLang's name, so its dashboards read it; the count since start.
    let retractedRequests: Gauge
    let ttft, itl, e2e, queueTime, deviceGap, prefillToDecodeGap: ValueHistogram
    let overlapRatio, kvPagesUsed, kvPagesTotal, kvPagesFree, kvPagesEvictable: Gauge

    init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let n = Self.prefix
        func gauge(_ name: String, _ help: String) -> Gauge { registry.makeGauge(name: n + name, help: help) }
        func counter(_ name: String, _ help: String) -> Counter { registry.makeCounter(name: n + name, help: help) }
        func histogram(_ name: String, _ buckets: [Double], _ help: String) -> ValueHistogram {
            registry.makeValueHistogram(name: n + name, buckets: buckets, help: help)
        }
        runningRequests = gauge("num_running_reqs", "Requests decoding or prefilling.")
        queuedRequests = gauge("num_queue_reqs", "Requests waiting to be scheduled.")
        usedTokens = gauge("num_used_tokens", "KV cache tokens in use by requests.")
        tokenUsage = gauge("token_usage", "Share of the KV cache in use by requests.")
        cacheHitRate = gauge("cache_hit_rate", "Prompt tokens found in the prefix cache over prompt tokens looked up.")
        genThroughput = gauge("gen_throughput", "Generated tokens per second over the last 10 seconds.")
        promptTokens = counter("prompt_tokens_total", "Prompt tokens of finished requests.")
        generationTokens = counter("generation_tokens_total", "Generated tokens.")
        cachedTokens = counter("cached_tokens_total", "Prompt tokens served from the prefix cache.")
        requests = counter("num_requests_total", "Finished requests, aborted ones included.")
        abortedRequests = counter("num_aborted_requests_total", "Requests aborted before they finished (client gone, shutdown).")
        retractedRequests = gauge("num_retracted_reqs", "Retractions (to free KV pages for others) since start.")
        ttft = histogram("time_to_first_token_seconds", Buckets.ttft, "Time from arrival to the first token.")
        itl = histogram("inter_token_latency_seconds", Buckets.itl, "Time between generated tokens.")
        e2e = histogram("e2e_request_latency_seconds", Buckets.e2e, "Time from arrival to the last token.")
        queueTime = histogram("queue_time_seconds", Buckets.queue, "Time from arrival to the first scheduled batch.")
        deviceGap = histogram("device_gap_seconds", Buckets.gap, "Device idle time between consecutive batches (host gap).")
        prefillToDecodeGap = histogram("prefill_to_decode_gap_seconds", Buckets.gap,
                                       "Device idle time between a prefill batch and the next decode batch.")
        overlapRatio = gauge("overlap_ratio", "Share of device busy time during which the host was busy too (last 10 s).")
        kvPagesUsed = gauge("kv_pages_used", "KV pages held by requests or the prefix cache.")
        kvPagesTotal = gauge("kv_pages_total", "KV pages in the pool.")
        kvPagesFree = gauge("kv_pages_free", "KV pages on the free list.")
        kvPagesEvictable = gauge("kv_pages_evictable", "KV pages of cached prefixes no request holds.")
    }

    /// Tokens routed to one expert of one MoE layer; the registry hands back the same counter
    /// for the same labels.
    func expertTokens(layer: Int, expert: Int) -> Counter {
        registry.makeCounter(name: Self.prefix + "expert_tokens_total", labels: [("layer", String(layer)), ("expert", String(expert))],
                             help: "Tokens routed to each expert of each MoE layer.")
    }

    /// The exposition text (format 0.0.4).
    func text() -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
