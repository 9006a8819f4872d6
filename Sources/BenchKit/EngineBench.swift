import Engine
import Foundation
import Profiler

/// `ringside engine-bench`: a small harness for the engine core. For each concurrency level it
/// sends that many random prompts at once and reports aggregate decode speed, the device-idle
/// gaps between batches and what each phase costs. `ringside bench` (the full load generator)
/// supersedes it.
public struct EngineBench: Sendable {
    public let engine: Engine
    public var inputLen = 128
    public var outputLen = 128

    public init(engine: Engine, inputLen: Int, outputLen: Int) {
        self.engine = engine
        self.inputLen = inputLen
        self.outputLen = outputLen
    }

    /// Runs every level in turn after a warm-up and writes what it measures through `log`.
    /// With `json`, each level is one line of JSON (`EngineBenchJSON`) and nothing else is written.
    public func run(concurrency levels: [Int], json: Bool = false, log: (String) -> Void) async throws {
        let recordNs = Self.recorderCost()
        if !json { log(String(format: "recorder: %.1f ns per event (1M events, one lane)", recordNs)) }
        var rng = SeededGenerator(seed: 1)
        // Warm-up: page in the weights.
        _ = try await Self.runAtOnce(engine, prompts: [(0 ..< 16).map { _ in Int32(200 + rng.next() % 20000) }], outputLen: 4)
        for c in levels {
            let prompts = (0 ..< c).map { _ in (0 ..< inputLen).map { _ in Int32(200 + rng.next() % 20000) } }
            var cursor = Recorder.Cursor()
            _ = engine.recorder.read(&cursor)
            let t0 = Date()
            _ = try await Self.runAtOnce(engine, prompts: prompts, outputLen: outputLen)
            let wall = Date().timeIntervalSince(t0)
            let events = engine.recorder.read(&cursor)
            if !json, ProcessInfo.processInfo.environment["RINGSIDE_DUMP_EVENTS"] != nil { Self.dump(events, log: log) }
            let figures = EngineBenchFigures(events: events, concurrency: c, outputLen: outputLen, wall: wall,
                                             overlap: engine.config.overlap, recorded: engine.config.recordEvents, recordNs: recordNs)
            if json { log(try BenchJSON.encode(figures.json)) } else { for line in figures.lines { log(line) } }
        }
    }

    /// Nanoseconds one `Recorder.begin` costs (clock read and ring store).
    public static func recorderCost() -> Double {
        let r = Recorder(capacityPerLane: 1 << 16)
        let n = 1_000_000
        let t0 = Recorder.now()
        for i in 0 ..< n { r.begin(.device, .decode, batch: UInt32(truncatingIfNeeded: i), tokens: 1, sequences: 1) }
        return Double(Recorder.now() - t0) / Double(n)
    }

    /// Submits the prompts at once, `outputLen` tokens each past any end of sequence; returns
    /// each request's time to first token in seconds.
    public static func runAtOnce(_ engine: Engine, prompts: [[Int32]], outputLen: Int) async throws -> [Double] {
        try await withThrowingTaskGroup(of: Double.self) { group in
            for p in prompts {
                group.addTask {
                    var first = 0.0
                    let t0 = Date()
                    for try await e in engine.submit(GenerateRequest(input: .tokens(p), params: SamplingParams(maxTokens: outputLen, ignoreEOS: true))) {
                        if case .delta = e, first == 0 { first = Date().timeIntervalSince(t0) }
                    }
                    return first
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// Sixty span events from the 400th on, for reading a steady state by eye.
    private static func dump(_ events: [Event], log: (String) -> Void) {
        let spans = events.filter { $0.kind == .begin || $0.kind == .end }
        guard !spans.isEmpty else { return }
        let t0 = spans[min(400, spans.count - 1)].time
        for e in spans.dropFirst(400).prefix(60) {
            log(String(format: "%10.1f us  %@ %@ %@ #%d", Double(e.time &- t0) / 1000, "\(e.lane)", "\(e.kind)", "\(e.span)", e.batch))
        }
    }
}

/// What engine-bench reports for one concurrency level, from the engine's events of the run.
public struct EngineBenchFigures: Sendable {
    public var concurrency: Int
    public var outputLen: Int
    /// Seconds from the first submit to the last answer.
    public var wall: Double
    public var overlap: Bool
    /// Whether the recorder was on (`--no-record` turns it off); its cost is only reported then.
    public var recorded: Bool
    public var recordNs: Double
    public var eventCount: Int
    public var spans: SpanStats
    public var decode: DecodeRate
    public var gaps: GapStats
    public var retracted: Int
    /// Share of device busy time during which the host was busy too.
    public var overlapRatio: Double?

    public init(events: [Event], concurrency: Int, outputLen: Int, wall: Double, overlap: Bool, recorded: Bool, recordNs: Double) {
        self.concurrency = concurrency
        self.outputLen = outputLen
        self.wall = wall
        self.overlap = overlap
        self.recorded = recorded
        self.recordNs = recordNs
        eventCount = events.count
        spans = SpanStats(events)
        decode = DecodeRate(events)
        gaps = GapStats(events)
        retracted = events.filter { $0.kind == .counter && $0.metric == .retractedRequests }.count
        overlapRatio = Overlap.ratio(events)
    }

    /// Aggregate decode speed: every request's output over the whole run.
    public var endToEndTokensPerSecond: Double { wall > 0 ? Double(concurrency * outputLen) / wall : 0 }

    public var lines: [String] {
        var out = ["  retracted: \(retracted)"] + spans.lines
        if recorded {
            let decodeSpans = spans[.device, .decode]
            let steps = max(1, decodeSpans?.count ?? 1)
            let stepMs = decodeSpans?.meanMs ?? 0
            let perStep = Double(eventCount) / Double(steps)
            out.append(String(format: "  recorder: %.1f events per decode step x %.1f ns = %.4f %% of a %.2f ms step",
                              perStep, recordNs, perStep * recordNs / (stepMs * 1e6) * 100, stepMs))
        }
        out.append(String(format: "concurrency %2d: %6.1f decode t/s aggregate (%.1f t/s end to end, %.2f s)  gap p50 %@ p99 %@ prefill->decode %@  (overlap %@)",
                          concurrency, decode.tokensPerSecond, endToEndTokensPerSecond, wall,
                          Self.micros(gaps.percentile(50)), Self.micros(gaps.percentile(99)),
                          Self.micros(Percentile.of(gaps.prefillToDecode, 50)), overlap ? "on" : "off"))
        return out
    }

    private static func micros(_ us: Double?) -> String {
        us.map { String(format: "%.0f us", $0) } ?? "-"
    }
}
