import Engine
import Foundation
import Profiler

/// Everything `/metrics` reports. Request-side numbers are recorded by the request handlers;
/// the scheduler's timeline (gaps, overlap, expert load) is drained from the engine's
/// recorder by a background thread, so no engine thread ever waits for a scrape.
final class ServerMetrics: @unchecked Sendable {
    // Everything below is guarded by `lock`.
    private let lock = NSLock()
    private var promptTokens = 0
    private var generationTokens = 0
    private var cachedTokens = 0
    private var requests = 0
    private var aborted = 0
    private var ttft = Histogram(Histogram.ttft)
    private var itl = Histogram(Histogram.itl)
    private var e2e = Histogram(Histogram.e2e)
    private var queue = Histogram(Histogram.queue)
    private var deviceGap = Histogram(Histogram.gap)
    private var prefillToDecode = Histogram(Histogram.gap)
    private var overlap: Double?
    private var experts: [[Int64]] = []
    /// (time, generated tokens so far) every drain, for the throughput over the last 10 s.
    private var generatedHistory: [(Double, Int)] = []

    private let recorder: Recorder
    private var running = true
    private let stopped = DispatchSemaphore(value: 0)

    init(recorder: Recorder) {
        self.recorder = recorder
        let t = Thread { [self] in drainLoop() }
        t.name = "ringside-metrics"
        t.start()
    }

    func stop() {
        lock.lock()
        running = false
        lock.unlock()
        stopped.wait()
    }

    var requestCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return requests
    }

    // MARK: Request side

    func requestFinished(usage: Usage, timings: Timings) {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        promptTokens += usage.promptTokens
        cachedTokens += usage.cachedPromptTokens
        queue.observe(timings.queued)
        e2e.observe(timings.total)
    }

    /// A request that ended before it finished: its client went away, or the server stopped.
    func requestAborted(promptTokens prompt: Int, generated: Int) {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        aborted += 1
        promptTokens += prompt
    }

    func firstToken(after seconds: Double) {
        lock.lock()
        ttft.observe(seconds)
        lock.unlock()
    }

    /// `tokens` tokens arrived `seconds` after the previous ones.
    func tokens(_ n: Int, after seconds: Double?) {
        lock.lock()
        generationTokens += n
        if let s = seconds, n > 0 { itl.observe(s / Double(n), times: n) }
        lock.unlock()
    }

    // MARK: Timeline side

    private func drainLoop() {
        var cursor = Recorder.Cursor()
        var open: [Event] = []
        var lastDevice: Span?
        var recent: [Span] = []
        let start = Recorder.now()
        while true {
            lock.lock()
            let keepGoing = running
            lock.unlock()
            guard keepGoing else { break }
            let fresh = recorder.read(&cursor)
            // Begins whose end has not arrived yet stay for the next read.
            let spans = Spans.pair(open + fresh)
            let closed = Set(spans.map { SpanKey(lane: $0.lane, kind: $0.kind, batch: $0.batch) })
            open = (open + fresh).filter { $0.kind == .begin && !closed.contains(SpanKey(lane: $0.lane, kind: $0.span, batch: $0.batch)) }
            if open.count > 1024 { open.removeFirst(open.count - 1024) }
            let now = Recorder.now()
            recent = (recent + spans).filter { now &- $0.end < 10_000_000_000 }
            var gaps: [(Double, Bool)] = []
            for b in Spans.batches(spans, lane: .device) {
                if let a = lastDevice, b.start >= a.end {
                    let s = Double(b.start - a.end) / 1e9
                    // A longer pause is the engine waiting for work, not a scheduling gap.
                    if s < 1 { gaps.append((s, (a.kind == .prefill || a.kind == .mixed) && b.kind == .decode)) }
                }
                lastDevice = b
            }
            var expertCounts: [(Int, Int, Int64)] = []
            for e in fresh where e.kind == .counter && e.metric == .expertTokens {
                expertCounts.append((Int(e.a), Int(e.b), e.value))
            }
            let ratio = Overlap.ratio(spans: recent)
            lock.lock()
            for (s, p2d) in gaps {
                deviceGap.observe(s)
                if p2d { prefillToDecode.observe(s) }
            }
            for (l, x, n) in expertCounts where l >= 0 && x >= 0 && l < 4096 && x < 4096 {
                while experts.count <= l { experts.append([]) }
                while experts[l].count <= x { experts[l].append(0) }
                experts[l][x] += n
            }
            if let r = ratio { overlap = r }
            let t = Double(now &- start) / 1e9
            generatedHistory.append((t, generationTokens))
            generatedHistory.removeAll { t - $0.0 > 10 }
            lock.unlock()
            Thread.sleep(forTimeInterval: 0.25)
        }
        stopped.signal()
    }

    private struct SpanKey: Hashable {
        var lane: Lane
        var kind: SpanKind
        var batch: UInt32
    }

    // MARK: Rendering

    func render(load: EngineLoad) -> String {
        lock.lock()
        defer { lock.unlock() }
        var p = PrometheusText()
        let n = "ringside:"
        let usedPages = load.kvPagesTotal - load.kvPagesFree - load.kvPagesEvictable
        p.gauge(n + "num_running_reqs", "Requests decoding or prefilling.", Double(load.runningRequests))
        p.gauge(n + "num_queue_reqs", "Requests waiting to be scheduled.", Double(load.queuedRequests))
        p.gauge(n + "num_used_tokens", "KV cache tokens in use by requests.", Double(usedPages * load.pageSize))
        p.gauge(n + "token_usage", "Share of the KV cache in use by requests.",
                load.kvPagesTotal > 0 ? Double(usedPages) / Double(load.kvPagesTotal) : 0)
        p.gauge(n + "cache_hit_rate", "Prompt tokens found in the prefix cache over prompt tokens looked up.",
                load.radixQueryTokens > 0 ? Double(load.radixHitTokens) / Double(load.radixQueryTokens) : 0)
        var throughput = 0.0
        if let first = generatedHistory.first, let last = generatedHistory.last, last.0 > first.0 {
            throughput = Double(last.1 - first.1) / (last.0 - first.0)
        }
        p.gauge(n + "gen_throughput", "Generated tokens per second over the last 10 seconds.", throughput)
        p.counter(n + "prompt_tokens_total", "Prompt tokens of finished requests.", Double(promptTokens))
        p.counter(n + "generation_tokens_total", "Generated tokens.", Double(generationTokens))
        p.counter(n + "cached_tokens_total", "Prompt tokens served from the prefix cache.", Double(cachedTokens))
        p.counter(n + "num_requests_total", "Finished requests, aborted ones included.", Double(requests))
        p.counter(n + "num_aborted_requests_total", "Requests aborted before they finished (client gone, shutdown).",
                  Double(aborted))
        // A gauge under SGLang's name, so its dashboards read it; the count since start.
        p.gauge(n + "num_retracted_reqs", "Retractions (to free KV pages for others) since start.", Double(load.retractedRequests))
        p.histogram(n + "time_to_first_token_seconds", "Time from arrival to the first token.", ttft)
        p.histogram(n + "inter_token_latency_seconds", "Time between generated tokens.", itl)
        p.histogram(n + "e2e_request_latency_seconds", "Time from arrival to the last token.", e2e)
        p.histogram(n + "queue_time_seconds", "Time from arrival to the first scheduled batch.", queue)
        p.histogram(n + "device_gap_seconds", "Device idle time between consecutive batches (host gap).", deviceGap)
        p.histogram(n + "prefill_to_decode_gap_seconds", "Device idle time between a prefill batch and the next decode batch.",
                    prefillToDecode)
        p.gauge(n + "overlap_ratio", "Share of device busy time during which the host was busy too (last 10 s).",
                overlap ?? 0)
        p.gauge(n + "kv_pages_used", "KV pages held by requests or the prefix cache.", Double(load.kvPagesTotal - load.kvPagesFree))
        p.gauge(n + "kv_pages_total", "KV pages in the pool.", Double(load.kvPagesTotal))
        p.gauge(n + "kv_pages_free", "KV pages on the free list.", Double(load.kvPagesFree))
        p.gauge(n + "kv_pages_evictable", "KV pages of cached prefixes no request holds.", Double(load.kvPagesEvictable))
        if !experts.isEmpty {
            p.family(n + "expert_tokens_total", "counter", "Tokens routed to each expert of each MoE layer.")
            for (l, row) in experts.enumerated() {
                for (x, c) in row.enumerated() {
                    p.sample(n + "expert_tokens_total", [("layer", String(l)), ("expert", String(x))], Double(c))
                }
            }
        }
        return p.text
    }
}
