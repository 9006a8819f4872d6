import Foundation
import Testing
@testable import Server

/// The request parser must agree with Foundation's on what is valid JSON and what it means,
/// and refuse what is not JSON with a message rather than a crash.
struct JSONTests {
    @Test func parsesWhatFoundationParses() throws {
        let text = #"{"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d\u00e9\n\"\ud83d\ude00"}, "e": ""}"#
        let ours = try JSON.parse(Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(ours["a"] == [1, -2, .double(3.5), .double(1000), true, false, nil])
        #expect(ours["b"]?["c"] == .string((theirs["b"] as! [String: Any])["c"] as! String))
        #expect(ours["e"] == "")
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "{\"a\" 1}", "tru", "01", "1.", "\"\\x\"", "\"\u{01}\"", "[1] 2",
                      "\"\\ud800\"", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(Array(text.utf8)) }
    }

    @Test func writesWhatFoundationReadsBack() throws {
        let value: JSON = ["s": "tab\tquote\"slash\\ctl\u{07}é😀", "n": nil, "i": -3, "d": 0.25, "l": [true, false]]
        let back = try JSONSerialization.jsonObject(with: Data(value.text.utf8)) as! [String: Any]
        #expect(back["s"] as? String == "tab\tquote\"slash\\ctl\u{07}é😀")
        #expect(back["n"] is NSNull)
        #expect(back["i"] as? Int == -3)
        #expect(back["d"] as? Double == 0.25)
        // Keys keep their order: OpenAI's shapes read top to bottom.
        #expect(value.text.hasPrefix(#"{"s":"#) && value.text.contains(#","n":null,"i":-3,"#))
    }
}

/// `/metrics` as swift-prometheus writes it for our families: the names an SGLang dashboard
/// reads, cumulative buckets, and counters that only move forward.
struct MetricFamiliesTests {
    @Test func histogramBucketsAreCumulative() {
        let f = MetricFamilies()
        for v in [0.005, 0.0075, 0.3, 0.3, 50] { f.ttft.record(v) }
        let lines = f.text().split(separator: "\n").map(String.init)
        func value(_ prefix: String) -> Double? {
            lines.first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        let h = "ringside:time_to_first_token_seconds"
        #expect(value(h + "_bucket{le=\"0.01\"}") == 2)
        #expect(value(h + "_bucket{le=\"0.2\"}") == 2)
        #expect(value(h + "_bucket{le=\"0.4\"}") == 4)
        #expect(value(h + "_bucket{le=\"40.0\"}") == 4)
        #expect(value(h + "_bucket{le=\"60.0\"}") == 5)
        #expect(value(h + "_bucket{le=\"+Inf\"}") == 5)
        #expect(value(h + "_count") == 5)
        #expect(abs((value(h + "_sum") ?? 0) - 50.6125) < 1e-9)
        #expect(lines.contains("# TYPE \(h) histogram"))
    }

    @Test func everySGLangNameIsServedUnderThePrefix() {
        let text = MetricFamilies().text()
        for name in ["num_running_reqs", "num_queue_reqs", "num_used_tokens", "token_usage", "cache_hit_rate", "gen_throughput",
                     "prompt_tokens_total", "generation_tokens_total", "cached_tokens_total", "num_requests_total",
                     "num_aborted_requests_total", "num_retracted_reqs", "time_to_first_token_seconds",
                     "inter_token_latency_seconds", "e2e_request_latency_seconds", "queue_time_seconds"] {
            #expect(text.contains("# TYPE ringside:\(name) "), "missing \(name)")
        }
    }

    @Test func expertCountersCarryLayerAndExpertLabels() {
        let f = MetricFamilies()
        f.expertTokens(layer: 1, expert: 7).increment(by: Int64(3))
        f.expertTokens(layer: 1, expert: 7).increment(by: Int64(2))
        #expect(f.text().contains(#"ringside:expert_tokens_total{layer="1",expert="7"} 5"#))
    }
}
