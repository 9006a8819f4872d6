/// Which engine answers at a URL: decides which metric names mean what, and whether the
/// timeline can show the server's own batches (only Ringside streams them, `GET /v1/events`).
public enum ServerKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case ringside, sglang, sglangJAX = "sglang-jax", vllm, llamacpp = "llama.cpp", unknown

    public var description: String {
        switch self {
        case .ringside: "Ringside"
        case .sglang: "SGLang"
        case .sglangJAX: "SGLang-JAX"
        case .vllm: "vLLM"
        case .llamacpp: "llama.cpp"
        case .unknown: "OpenAI-compatible server"
        }
    }

    /// Info endpoints probed when `/metrics` does not tell (GET, 200 = present).
    public static let probes = ["/v1/events", "/props", "/get_server_info", "/server_info", "/get_load"]

    /// Names it from the metric prefixes of a scrape, then from the info endpoints that
    /// answered. SGLang-JAX serves SGLang's info endpoints, but its `/metrics` carries only
    /// disaggregation counters, none of SGLang's scheduler gauges.
    public static func detect(scrape: MetricsScrape?, answered: Set<String>) -> ServerKind {
        let names = Set(scrape?.samples.map(\.name) ?? [])
        func has(_ prefix: String) -> Bool { names.contains { $0.hasPrefix(prefix) } }
        if has("ringside:") || answered.contains("/v1/events") { return .ringside }
        if has("vllm:") { return .vllm }
        if has("llamacpp:") || answered.contains("/props") { return .llamacpp }
        let sglangInfo = answered.contains("/get_server_info") || answered.contains("/server_info") || answered.contains("/get_load")
        if has("sglang:") {
            let scheduler = ["sglang:num_running_reqs", "sglang:token_usage", "sglang:gen_throughput", "sglang:num_queue_reqs"]
            if scheduler.contains(where: names.contains) { return .sglang }
            return sglangInfo ? .sglangJAX : .sglang
        }
        if sglangInfo { return answered.contains("/get_load") && scrape != nil ? .sglangJAX : .sglang }
        return .unknown
    }

    /// What the experts pane says for a server that exposes no per-expert counts.
    public var expertNote: String {
        switch self {
        case .ringside: "no MoE layers: every token uses the same weights"
        case .sglang: "SGLang exposes expert load only through its expert_distribution_record endpoints (not read here)"
        case .sglangJAX: "SGLang-JAX exposes no expert load over HTTP"
        case .vllm: "vLLM exposes no expert load in /metrics"
        case .llamacpp: "llama.cpp exposes no expert load"
        case .unknown: "this server exposes no expert load"
        }
    }
}
