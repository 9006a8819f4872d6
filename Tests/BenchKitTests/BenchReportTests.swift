import BenchKit
import Foundation
import Testing

@Suite("bench report")
struct BenchReportTests {
    static func result(prompt: Int, cached: Int?, output: Int, ttft: Double, itls: [Double], e2e: Double) -> RequestResult {
        var r = RequestResult()
        r.ok = true
        r.promptTokens = prompt
        r.cachedTokens = cached
        r.outputTokens = output
        r.ttft = ttft
        r.itls = itls
        r.e2e = e2e
        return r
    }

    /// Figures computed by hand from four requests (one failed) over 2 seconds.
    @Test func figuresFollowBenchServingsDefinitions() throws {
        var failed = RequestResult()
        failed.error = "HTTP 500: boom"
        let results = [
            Self.result(prompt: 100, cached: 0, output: 10, ttft: 0.1, itls: [0.01, 0.03], e2e: 0.5),
            Self.result(prompt: 100, cached: 64, output: 20, ttft: 0.3, itls: [0.02], e2e: 0.7),
            Self.result(prompt: 50, cached: nil, output: 30, ttft: 0.2, itls: [], e2e: 0.9),
            failed,
        ]
        let r = BenchReport(backend: "test", workload: "random", results: results, duration: 2)
        #expect(r.completed == 3 && r.failed == 1)
        #expect(r.total_input_tokens == 250 && r.total_output_tokens == 60)
        #expect(abs(r.request_throughput - 1.5) < 1e-12)
        #expect(abs(r.input_throughput - 125) < 1e-12)
        #expect(abs(r.output_throughput - 30) < 1e-12)
        #expect(abs(r.mean_ttft_ms! - 200) < 1e-9)
        #expect(abs(r.median_ttft_ms! - 200) < 1e-9)
        #expect(abs(r.mean_itl_ms! - 20) < 1e-9)  // every gap of every request: 10, 30, 20 ms
        #expect(abs(r.median_itl_ms! - 20) < 1e-9)
        #expect(abs(r.mean_e2e_latency_ms! - 700) < 1e-9)
        // Hit rate over the requests that report cached tokens: 64 of 200.
        #expect(abs(r.cache_hit_rate! - 0.32) < 1e-12)
        #expect(r.errors == ["HTTP 500: boom"])
        #expect(r.table.contains("Output token throughput (tok/s)") && r.table.contains("30.00"))
    }

    /// Unmeasured figures are JSON nulls, not missing keys and not zeros.
    @Test func jsonHasEveryKeyWithNullsForTheUnmeasured() throws {
        let r = BenchReport(backend: "test", workload: "random", results: [], duration: 0)
        let obj = try #require(try JSONSerialization.jsonObject(with: r.json()) as? [String: Any])
        for key in ["mean_ttft_ms", "p99_itl_ms", "cache_hit_rate", "overlap_ratio", "host_gap_us", "kv_pages_peak"] {
            #expect(obj[key] is NSNull, "\(key)")
        }
        #expect(obj["completed"] as? Int == 0)
    }
}
