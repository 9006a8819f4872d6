import Foundation
import Testing
@testable import Remote

/// Real `/metrics` text of each server kind (Fixtures/SOURCES.md says where each came from),
/// and broken text, through the parser, the kind detection and the figures the panes show.
@Suite("metrics of other servers")
struct MetricsTests {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func sglangDocumentationExample() throws {
        let s = MetricsScrape(text: try Self.fixture("sglang-metrics.txt"))
        #expect(s.badLines.isEmpty)
        #expect(ServerKind.detect(scrape: s, answered: []) == .sglang)
        let f = ServerFigures(s, kind: .sglang)
        #expect(f.running == 162 && f.queued == 2826)
        #expect(f.tokenUsage == 0.28)
        #expect(f.throughput == 86.50814177726902)
        #expect(f.cacheHitRate == 0.007507552643049313)
        #expect(f.promptTokens == 8.128902e+06 && f.generationTokens == 7.557572e+06)
        let ttft = try #require(f.ttft)
        #expect(ttft.count == 11008 && ttft.buckets.count == 21)
        // Half of the 11008 first tokens came after 30 s, the last finite bound: PromQL's
        // histogram_quantile answers with that bound.
        #expect(ttft.quantile(0.5) == 30)
        // Rank 0.1 * 11008 = 1100.8 lies in (7.5, 10]: 941 below, 1330 at its top.
        #expect(abs(ttft.quantile(0.1)! - (7.5 + 2.5 * (1100.8 - 941) / (1330 - 941))) < 1e-9)
        // SGLang names inter-token latency time_per_output_token in this version.
        let itl = try #require(f.itl)
        let rank = 0.5 * 7.400757e+06
        #expect(abs(itl.quantile(0.5)! - (0.075 + 0.025 * (rank - 433413) / (4.950195e+06 - 433413))) < 1e-12)
    }

    @Test func vllmFromItsMetricDefinitions() throws {
        let s = MetricsScrape(text: try Self.fixture("vllm-metrics.txt"))
        #expect(s.badLines.isEmpty)
        #expect(s.types["vllm:prefix_cache_hits_total"] == "counter")
        #expect(ServerKind.detect(scrape: s, answered: []) == .vllm)
        let f = ServerFigures(s, kind: .vllm)
        #expect(f.running == 3 && f.queued == 1 && f.tokenUsage == 0.125)
        #expect(f.cacheHitRate == 0.25, "prefix_cache_hits over prefix_cache_queries: 1024 / 4096")
        #expect(f.retractions == 2 && f.generationTokens == 2048)
        #expect(f.ttft?.count == 16 && f.itl?.count == 16)
        // vLLM has no throughput gauge: the generation counter between two scrapes.
        let later = MetricsScrape(text: try Self.fixture("vllm-metrics.txt")
            .replacingOccurrences(of: "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 2048.0",
                                  with: "vllm:generation_tokens_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 2548.0")
            .replacingOccurrences(of: "vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 4096.0",
                                  with: "vllm:prefix_cache_queries_total{engine=\"0\",model_name=\"Qwen/Qwen3-0.6B\"} 5096.0"))
        let g = ServerFigures(later, kind: .vllm, previous: (f, 2))
        #expect(g.throughput == 250)
        #expect(g.cacheHitRate == 0, "1000 more tokens looked up, no more hits")
    }

    @Test func llamaServerCapture() throws {
        let s = MetricsScrape(text: try Self.fixture("llamacpp-metrics.txt"))
        #expect(s.badLines.isEmpty)
        #expect(ServerKind.detect(scrape: s, answered: []) == .llamacpp)
        let f = ServerFigures(s, kind: .llamacpp)
        #expect(f.running != nil && f.queued != nil)
        #expect(f.generationTokens == s.sum("llamacpp:tokens_predicted_total"))
        let processed = try #require(s.sum("llamacpp:prompt_tokens_total"))
        let cached = try #require(s.sum("llamacpp:prompt_tokens_cached_total"))
        #expect(f.cacheHitRate == (processed + cached > 0 ? cached / (processed + cached) : nil))
        #expect(f.ttft == nil, "llama.cpp has no latency histograms")
    }

    @Test func ringsideOwnMetrics() throws {
        let s = MetricsScrape(text: try Self.fixture("ringside-metrics.txt"))
        #expect(s.badLines.isEmpty)
        #expect(ServerKind.detect(scrape: s, answered: []) == .ringside)
        let f = ServerFigures(s, kind: .ringside)
        #expect(f.running != nil && f.tokenUsage != nil && f.cacheHitRate != nil)
        #expect((f.ttft?.count ?? 0) > 0)
    }

    @Test func brokenTextKeepsWhatParses() {
        let text = """
        # HELP vllm:num_requests_running Number of requests in model execution batches.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{engine="0",model_name="m"} 4.0
        vllm:num_requests_waiting{engine="0",model_name="m} 2.0
        vllm:kv_cache_usage_perc{engine="0" model_name="m"} 0.5
        vllm:prefix_cache_hits_total{engine="0",model_name="m"}
        vllm:prefix_cache_queries_total{engine="0",model_name="m"} twelve
        9lives 1
        {} 3
        garbage line with spaces 1 2 3
        vllm:num_preemptions_total{engine="0",model_name="m"} 1 1700000000000
        vllm:generation_tokens_total{engine="0",model_name="m"} NaN
        vllm:prompt_tokens_total{engine="0",model_name="a\\"b"} +Inf
        vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 1
        vllm:time_to_first_token_seconds_bucket{le="oops",model_name="m"} 2
        vllm:time_to_first_token_seconds_count{model_name="m"} 3
        vllm:num_requests_running{engine="1",model_name="m"} 1.5e0\r
        vllm:truncat
        """
        let s = MetricsScrape(text: text)
        #expect(s.badLines == [4, 5, 6, 7, 8, 9, 10, 18])
        #expect(s.sum("vllm:num_requests_running") == 5.5, "two engines summed, a CR line ending accepted")
        #expect(s.sum("vllm:num_preemptions_total") == 1, "a timestamp after the value")
        #expect(s.sum("vllm:generation_tokens_total")!.isNaN)
        #expect(s.samples.first { $0.name == "vllm:prompt_tokens_total" }?.labels["model_name"] == "a\"b")
        // A bucket whose bound does not parse is left out of the histogram, not fatal.
        #expect(s.histogram("vllm:time_to_first_token_seconds")?.buckets.count == 1)
        let f = ServerFigures(s, kind: .vllm)
        #expect(f.running == 5.5 && f.queued == nil && f.tokenUsage == nil && f.cacheHitRate == nil)
        for junk in ["", "\n\n", "\u{0}\u{1}\u{2}", String(repeating: "{", count: 10_000), "# only a comment"] {
            let j = MetricsScrape(text: junk)
            #expect(j.samples.isEmpty)
            #expect(ServerKind.detect(scrape: j, answered: []) == .unknown)
        }
    }

    @Test func kindFromInfoEndpoints() {
        #expect(ServerKind.detect(scrape: nil, answered: ["/v1/events"]) == .ringside)
        #expect(ServerKind.detect(scrape: nil, answered: ["/props"]) == .llamacpp)
        #expect(ServerKind.detect(scrape: nil, answered: ["/get_server_info"]) == .sglang)
        #expect(ServerKind.detect(scrape: nil, answered: ["/get_load"]) == .sglang)
        #expect(ServerKind.detect(scrape: nil, answered: []) == .unknown)
    }

    /// SGLang-JAX's answers, made from its source (make_sglang_jax_fixtures.py): its server
    /// arguments name it, its /metrics has only disaggregation counters, and the scheduler's
    /// figures come from /get_server_info.
    @Test func sglangJAXFromItsSource() throws {
        let info = try #require(SGLangServerInfo(text: try Self.fixture("sglang-jax-server-info.json")))
        #expect(info.isJAX)
        let metrics = MetricsScrape(text: try Self.fixture("sglang-jax-metrics.txt"))
        #expect(metrics.badLines.isEmpty && !metrics.samples.isEmpty)
        #expect(!metrics.samples.contains { $0.name.hasPrefix("sglang:") }, "SGLang-JAX's metrics carry no sglang: prefix")
        #expect(metrics.sum("pd_transfer_bytes_total") == 56_623_104)
        // Its /get_load answers 500 (a KeyError on "load"), so only /get_server_info answered.
        #expect(ServerKind.detect(scrape: metrics, answered: ["/get_server_info"], serverInfo: info) == .sglangJAX)
        #expect(ServerKind.detect(scrape: MetricsScrape(text: ""), answered: ["/get_server_info"], serverInfo: info) == .sglangJAX,
                "--enable-metrics without disaggregation: an empty /metrics")
        #expect(ServerKind.detect(scrape: nil, answered: ["/get_server_info"], serverInfo: info) == .sglangJAX, "no --enable-metrics: 404")
        // Without the server info, the PD counters alone name nothing.
        #expect(ServerKind.detect(scrape: metrics, answered: []) == .unknown)
        // The figures: nothing from /metrics, the scheduler's state from /get_server_info.
        let fromMetrics = ServerFigures(metrics, kind: .sglangJAX)
        #expect(fromMetrics.running == nil && fromMetrics.queued == nil && fromMetrics.tokenUsage == nil)
        let f = ServerFigures(info: info)
        #expect(f.running == 3 && f.queued == 2)
        #expect(f.throughput == 812.4)
        #expect(f.tokenUsage == (262_144.0 - 196_608) / 262_144, "allocated over token_capacity")
        // SGLang's own server info has none of JAX's compilation arguments.
        let sglang = try #require(SGLangServerInfo(text: """
            {"model_path": "m", "disable_cuda_graph": false, "cuda_graph_max_bs": 160, "max_total_num_tokens": 1000,
             "internal_states": [{"last_gen_throughput": 5.5, "memory_usage": {"token_capacity": 1000}}], "version": "0.5.6"}
            """))
        #expect(!sglang.isJAX && sglang.throughput == 5.5 && sglang.running == nil)
        #expect(ServerKind.detect(scrape: nil, answered: ["/get_server_info", "/get_load"], serverInfo: sglang) == .sglang)
        for junk in ["", "[]", "{}", "{\"detail\": \"Not Found\"}", "Internal Server Error", String(repeating: "[", count: 5000)] {
            #expect(SGLangServerInfo(text: junk) == nil, "\(junk.prefix(20))")
        }
    }

    /// SGLang's expert-load metrics, made by prometheus_client from its definitions
    /// (make_sglang_eplb_metrics.py): the per-(layer, EP rank) heat map and the balancedness.
    @Test func sglangExpertLoadFromEPLBMetrics() throws {
        let text = try Self.fixture("sglang-eplb-metrics.txt")
        let s = MetricsScrape(text: try Self.fixture("sglang-metrics.txt") + text)
        #expect(s.badLines.isEmpty)
        #expect(ServerKind.detect(scrape: s, answered: []) == .sglang)
        let f = ServerFigures(s, kind: .sglang)
        // LOADS in the script, summed over its four passes.
        #expect(f.expertCounts == [[34, 6, 6, 18], [18, 18, 18, 10], [3, 3, 57, 1]])
        #expect(f.expertColumns == .ranks)
        #expect(abs(f.balancedness! - 0.5154105519960067) < 1e-12)
        // Two more passes with balancedness 0.9 and 0.7: the next scrape's figure is theirs.
        let later = MetricsScrape(text: text
            .replacingOccurrences(of: "} 4.0\n", with: "} 6.0\n")
            .replacingOccurrences(of: "} 2.061642207984027", with: "} 3.661642207984027"))
        let g = ServerFigures(later, kind: .sglang, previous: (f, 1))
        #expect(abs(g.balancedness! - 0.8) < 1e-12)
        // Without the metrics, as SGLang runs by default: no counts, and the note says how to get them.
        let plain = ServerFigures(MetricsScrape(text: try Self.fixture("sglang-metrics.txt")), kind: .sglang)
        #expect(plain.expertCounts == nil && plain.balancedness == nil)
        #expect(ServerKind.sglang.expertNote.contains("--enable-expert-distribution-metrics"))
        // Broken buckets are left out, not fatal.
        let broken = MetricsScrape(text: """
            sglang:eplb_gpu_physical_count_bucket{layer="x",le="0.0"} 3
            sglang:eplb_gpu_physical_count_bucket{layer="0",le="0.5"} 3
            sglang:eplb_gpu_physical_count_bucket{layer="0",le="NaN"} 3
            sglang:eplb_gpu_physical_count_bucket{layer="99999",le="0.0"} 3
            sglang:eplb_gpu_physical_count_bucket{layer="1",le="1.0"} 4
            """)
        #expect(ServerFigures(broken, kind: .sglang).expertCounts == [[0, 0], [0, 4]])
    }

    @Test func backoffGrowsToItsCapAndStartsOver() {
        var b = Backoff(base: 0.5, cap: 10)
        #expect((0 ..< 7).map { _ in b.next() } == [0.5, 1, 2, 4, 8, 10, 10])
        b.reset()
        #expect(b.next() == 0.5)
    }
}
