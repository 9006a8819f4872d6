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
    /// answered and what `/get_server_info` holds.
    ///
    /// SGLang-JAX serves SGLang's info endpoints, and its `/metrics` (with `--enable-metrics`)
    /// carries only disaggregation counters (`pd_*`, no `sglang:` prefix), or nothing. What
    /// tells it apart is its server arguments in `/get_server_info`: JAX's ahead-of-time
    /// compilation (`precompile_token_paddings`, `precompile_bs_paddings`, `disable_precompile`)
    /// has no SGLang counterpart. Its `/get_load` answers 500 (the tokenizer manager reads a
    /// `load` key its scheduler never sets), so that endpoint tells nothing.
    public static func detect(scrape: MetricsScrape?, answered: Set<String>, serverInfo: SGLangServerInfo? = nil) -> ServerKind {
        let names = Set(scrape?.samples.map(\.name) ?? [])
        func has(_ prefix: String) -> Bool { names.contains { $0.hasPrefix(prefix) } }
        if has("ringside:") || answered.contains("/v1/events") { return .ringside }
        if has("vllm:") { return .vllm }
        if has("llamacpp:") || answered.contains("/props") { return .llamacpp }
        if serverInfo?.isJAX == true { return .sglangJAX }
        if has("sglang:") || serverInfo != nil { return .sglang }
        if answered.contains("/get_server_info") || answered.contains("/server_info") || answered.contains("/get_load") { return .sglang }
        return .unknown
    }

    /// What the experts pane says for a server that exposes no per-expert counts.
    public var expertNote: String {
        switch self {
        case .ringside: "no MoE layers: every token uses the same weights"
        case .sglang:
            "SGLang shows expert load in /metrics only when launched with --expert-distribution-recorder-mode stat --enable-expert-distribution-metrics and SGLANG_EPLB_HEATMAP_COLLECTION_INTERVAL > 0 (per EP rank); its *_expert_distribution_record endpoints write the counts to a file on the server"
        case .sglangJAX: "SGLang-JAX exposes no expert load over HTTP (its recorder writes files on the server)"
        case .vllm: "vLLM exposes no expert load in /metrics"
        case .llamacpp: "llama.cpp exposes no expert load"
        case .unknown: "this server exposes no expert load"
        }
    }
}
