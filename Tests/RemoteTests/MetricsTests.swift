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
        // SGLang-JAX: SGLang's info endpoints, a /metrics without SGLang's scheduler gauges.
        let disagg = MetricsScrape(text: "sglang:num_bootstrap_failed_reqs_total{model_name=\"m\"} 0.0\n")
        #expect(ServerKind.detect(scrape: disagg, answered: ["/get_load", "/get_server_info"]) == .sglangJAX)
        #expect(ServerKind.detect(scrape: MetricsScrape(), answered: ["/get_load"]) == .sglangJAX)
        #expect(ServerKind.detect(scrape: nil, answered: []) == .unknown)
    }

    @Test func backoffGrowsToItsCapAndStartsOver() {
        var b = Backoff(base: 0.5, cap: 10)
        #expect((0 ..< 7).map { _ in b.next() } == [0.5, 1, 2, 4, 8, 10, 10])
        b.reset()
        #expect(b.next() == 0.5)
    }
}
