import Foundation
import Profiler

/// The figures `bench` prints and writes, under `bench_serving`'s names.
public struct BenchReport: Encodable {
    public struct HostGap: Encodable {
        public var p50: Double?
        public var p99: Double?
        public var prefill_to_decode_p50: Double?
    }

    public var backend: String
    public var workload: String
    public var completed = 0
    public var failed = 0
    public var duration_s = 0.0
    public var total_input_tokens = 0
    public var total_output_tokens = 0
    public var request_throughput = 0.0
    public var input_throughput = 0.0
    public var output_throughput = 0.0
    public var mean_ttft_ms: Double?
    public var median_ttft_ms: Double?
    public var p99_ttft_ms: Double?
    public var mean_itl_ms: Double?
    public var median_itl_ms: Double?
    public var p99_itl_ms: Double?
    public var mean_e2e_latency_ms: Double?
    public var cache_hit_rate: Double?
    // In-process engine only.
    public var overlap_ratio: Double?
    public var host_gap_us: HostGap?
    public var kv_pages_peak: Int?
    /// `--url` against a server with `/metrics`: its own figures over the run.
    public var server: ServerSide?
    public var errors: [String] = []

    public init(backend: String, workload: String, results: [RequestResult], duration: Double) {
        self.backend = backend
        self.workload = workload
        let ok = results.filter(\.ok)
        completed = ok.count
        failed = results.count - ok.count
        duration_s = duration
        total_input_tokens = ok.map(\.promptTokens).reduce(0, +)
        total_output_tokens = ok.map(\.outputTokens).reduce(0, +)
        if duration > 0 {
            request_throughput = Double(completed) / duration
            input_throughput = Double(total_input_tokens) / duration
            output_throughput = Double(total_output_tokens) / duration
        }
        let ttft = ok.map { $0.ttft * 1000 }
        let itl = ok.flatMap { $0.itls.map { $0 * 1000 } }
        mean_ttft_ms = Percentile.mean(ttft)
        median_ttft_ms = Percentile.of(ttft, 50)
        p99_ttft_ms = Percentile.of(ttft, 99)
        mean_itl_ms = Percentile.mean(itl)
        median_itl_ms = Percentile.of(itl, 50)
        p99_itl_ms = Percentile.of(itl, 99)
        mean_e2e_latency_ms = Percentile.mean(ok.map { $0.e2e * 1000 })
        let withCache = ok.filter { $0.cachedTokens != nil }
        if !withCache.isEmpty {
            let prompt = withCache.map(\.promptTokens).reduce(0, +)
            cache_hit_rate = prompt > 0 ? Double(withCache.map { $0.cachedTokens! }.reduce(0, +)) / Double(prompt) : nil
        }
        errors = Array(Set(results.compactMap(\.error))).sorted().prefix(5).map { $0 }
    }

    /// Scheduler figures from the engine's own timeline.
    public mutating func addEngineEvents(_ events: [Event]) {
        let spans = Spans.pair(events)
        overlap_ratio = Overlap.ratio(spans: spans)
        let gaps = GapStats(spans: spans)
        host_gap_us = HostGap(p50: gaps.percentile(50), p99: gaps.percentile(99),
                              prefill_to_decode_p50: Percentile.of(gaps.prefillToDecode, 50))
        kv_pages_peak = Totals(events).peaks[.kvPagesUsed].map(Int.init)
    }

    public var table: String {
        func f(_ x: Double?, _ digits: Int = 2) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        var rows: [(String, String)] = [
            ("Backend", backend), ("Workload", workload),
            ("Successful requests", "\(completed)"), ("Failed requests", "\(failed)"),
            ("Benchmark duration (s)", f(duration_s)),
            ("Total input tokens", "\(total_input_tokens)"), ("Total generated tokens", "\(total_output_tokens)"),
            ("Request throughput (req/s)", f(request_throughput)),
            ("Input token throughput (tok/s)", f(input_throughput)),
            ("Output token throughput (tok/s)", f(output_throughput)),
            ("Mean TTFT (ms)", f(mean_ttft_ms)), ("Median TTFT (ms)", f(median_ttft_ms)), ("P99 TTFT (ms)", f(p99_ttft_ms)),
            ("Mean ITL (ms)", f(mean_itl_ms)), ("Median ITL (ms)", f(median_itl_ms)), ("P99 ITL (ms)", f(p99_itl_ms)),
            ("Mean E2E latency (ms)", f(mean_e2e_latency_ms)),
            ("Prefix cache hit rate", cache_hit_rate.map { String(format: "%.1f %%", $0 * 100) } ?? "-"),
        ]
        if let g = host_gap_us {
            rows += [("Overlap ratio", f(overlap_ratio, 3)),
                     ("Device gap p50 / p99 (us)", "\(f(g.p50, 0)) / \(f(g.p99, 0))"),
                     ("Prefill->decode gap p50 (us)", f(g.prefill_to_decode_p50, 0)),
                     ("KV pages peak", kv_pages_peak.map(String.init) ?? "-")]
        }
        if let s = server { rows += s.rows }
        let width = 50
        var out = String(repeating: "=", count: 12) + " Serving Benchmark Result " + String(repeating: "=", count: 12) + "\n"
        for (k, v) in rows {
            let pad = max(1, width - k.count - v.count)
            out += k + String(repeating: " ", count: pad) + v + "\n"
        }
        for e in errors { out += "error: \(e)\n" }
        out += String(repeating: "=", count: width) + "\n"
        return out
    }
}

extension BenchReport {
    /// Every key present, unknown figures as null (a consumer can tell "not measured" from 0).
    public func json() throws -> Data {
        let enc = JSONEncoder()
        var obj = try JSONSerialization.jsonObject(with: enc.encode(self)) as? [String: Any] ?? [:]
        for key in ["mean_ttft_ms", "median_ttft_ms", "p99_ttft_ms", "mean_itl_ms", "median_itl_ms", "p99_itl_ms",
                    "mean_e2e_latency_ms", "cache_hit_rate", "overlap_ratio", "host_gap_us", "kv_pages_peak", "server"] where obj[key] == nil {
            obj[key] = NSNull()
        }
        if var gap = obj["host_gap_us"] as? [String: Any] {
            for key in ["p50", "p99", "prefill_to_decode_p50"] where gap[key] == nil { gap[key] = NSNull() }
            obj["host_gap_us"] = gap
        }
        return try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
    }
}
