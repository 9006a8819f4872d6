import Engine
import Foundation
import Profiler
import Prometheus

/// Everything `/metrics` reports. Request-side numbers are recorded by the request handlers;
/// the scheduler's timeline (gaps, overlap, expert load) is drained from the engine's
/// recorder by a background thread, so no engine thread ever waits for a scrape.
final class ServerMetrics: @unchecked Sendable {
    let families = MetricFamilies()
    // Everything below is guarded by `lock`; the families are thread-safe themselves.
    private let lock = NSLock()
    private var requests = 0
    private var generationTokens = 0
    private var overlap: Double?
    private var experts: [ExpertKey: Counter] = [:]
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
        families.requests.increment()
        families.promptTokens.increment(by: Int64(usage.promptTokens))
        families.cachedTokens.increment(by: Int64(usage.cachedPromptTokens))
        families.queueTime.record(timings.queued)
        families.e2e.record(timings.total)
    }

    /// A request that ended before it finished: its client went away, or the server stopped.
    func requestAborted(promptTokens prompt: Int, generated: Int) {
        lock.lock()
        defer { lock.unlock() }
        requests += 1
        families.requests.increment()
        families.abortedRequests.increment()
        families.promptTokens.increment(by: Int64(prompt))
    }

    func firstToken(after seconds: Double) {
        if seconds.isFinite { families.ttft.record(seconds) }
    }

    /// `tokens` tokens arrived `seconds` after the previous ones.
    func tokens(_ n: Int, after seconds: Double?) {
        lock.lock()
        generationTokens += n
        lock.unlock()
        families.generationTokens.increment(by: Int64(n))
        // Tokens that arrive together share the wait evenly.
        if let s = seconds, n > 0, s.isFinite { for _ in 0 ..< n { families.itl.record(s / Double(n)) } }
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
            for (s, p2d) in gaps {
                families.deviceGap.record(s)
                if p2d { families.prefillToDecodeGap.record(s) }
            }
            lock.lock()
            for (l, x, n) in expertCounts where l >= 0 && x >= 0 && l < 4096 && x < 4096 {
                let key = ExpertKey(layer: l, expert: x)
                let counter = experts[key] ?? families.expertTokens(layer: l, expert: x)
                experts[key] = counter
                counter.increment(by: n)
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

    private struct ExpertKey: Hashable {
        var layer: Int
        var expert: Int
    }

    private struct SpanKey: Hashable {
        var lane: Lane
        var kind: SpanKind
        var batch: UInt32
    }

    // MARK: Rendering

    /// Sets the gauges from the engine's latest snapshot and writes every family.
    func render(load: EngineLoad) -> String {
        lock.lock()
        var throughput = 0.0
        if let first = generatedHistory.first, let last = generatedHistory.last, last.0 > first.0 {
            throughput = Double(last.1 - first.1) / (last.0 - first.0)
        }
        let overlapRatio = overlap ?? 0
        lock.unlock()
        let f = families
        let usedPages = load.kvPagesTotal - load.kvPagesFree - load.kvPagesEvictable
        f.runningRequests.set(to: Double(load.runningRequests))
        f.queuedRequests.set(to: Double(load.queuedRequests))
        f.usedTokens.set(to: Double(usedPages * load.pageSize))
        f.tokenUsage.set(to: load.kvPagesTotal > 0 ? Double(usedPages) / Double(load.kvPagesTotal) : 0)
        f.cacheHitRate.set(to: load.radixQueryTokens > 0 ? Double(load.radixHitTokens) / Double(load.radixQueryTokens) : 0)
        f.genThroughput.set(to: throughput)
        f.retractedRequests.set(to: Double(load.retractedRequests))
        f.overlapRatio.set(to: overlapRatio)
        f.kvPagesUsed.set(to: Double(load.kvPagesTotal - load.kvPagesFree))
        f.kvPagesTotal.set(to: Double(load.kvPagesTotal))
        f.kvPagesFree.set(to: Double(load.kvPagesFree))
        f.kvPagesEvictable.set(to: Double(load.kvPagesEvictable))
        return f.text()
    }
}
