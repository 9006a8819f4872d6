import ArgumentParser
import BenchKit
import Engine
import Foundation
import Profiler

/// A small harness for the engine core: N concurrent requests of random prompts, aggregate
/// decode speed, and the device-idle gaps between batches. `ringside bench` (the full load
/// generator) supersedes it.
struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench",
        abstract: "Aggregate decode tokens/s and host gaps at several concurrency levels.")

    @Option(name: .long, help: "Catalog name or path of a GGUF file.") var model = ModelCatalog.defaultModel
    @Option(name: .long, parsing: .upToNextOption, help: "Concurrent requests, one run each.") var concurrency: [Int] = [1, 4, 16]
    @Option(name: .customLong("input-len")) var inputLen = 128
    @Option(name: .customLong("output-len")) var outputLen = 128
    @Flag(name: .customLong("no-overlap")) var noOverlap = false
    @Flag(name: .customLong("no-record"), help: "Turn the event recorder off.") var noRecord = false
    @Option(name: .customLong("kv-cache-tokens")) var kvCacheTokens = 32768
    @Flag(name: .long, help: "Print one JSON object per concurrency level instead of the report.") var json = false
    @Flag(name: .customLong("fp32-activations"), help: "Decode with fp32 activations instead of int16-quantized ones.")
    var fp32Activations = false

    func run() async throws {
        let path: String
        do { path = try ModelCatalog().resolve(model) } catch { throw CLIError(error.description) }
        let loaded = try LoadedModel(path: path)
        var config = EngineConfig()
        config.overlap = !noOverlap
        config.recordEvents = !noRecord
        config.kvCacheTokens = kvCacheTokens
        config.fp32Activations = fp32Activations
        let engine = Engine(loaded, config: config)
        defer { engine.shutdown() }
        let recordNs = Self.recorderCost()
        if !json { print(String(format: "recorder: %.1f ns per event (1M events, one lane)", recordNs)) }
        var rng = SeededGenerator(seed: 1)
        // Warm-up: page in the weights.
        _ = try await run(engine, prompts: [(0 ..< 16).map { _ in Int32(200 + rng.next() % 20000) }], outputLen: 4)
        for c in concurrency {
            let prompts = (0 ..< c).map { _ in (0 ..< inputLen).map { _ in Int32(200 + rng.next() % 20000) } }
            var cursor = Recorder.Cursor()
            _ = engine.recorder.read(&cursor)
            let t0 = Date()
            _ = try await run(engine, prompts: prompts, outputLen: outputLen)
            let wall = Date().timeIntervalSince(t0)
            let events = engine.recorder.read(&cursor)
            let gaps = GapStats(events)
            // Decode speed as llama.cpp's batched bench counts it: tokens produced by decode
            // batches over the time the device spent on them, host gaps before them included.
            let decode = DecodeRate(events)
            if json {
                print(try BenchJSON.encode(EngineBenchFigures(
                    concurrency: c, decodeTokensPerS: decode.tokensPerSecond, endToEndTokensPerS: Double(c * outputLen) / wall,
                    gapP50Us: gaps.percentile(50), gapP99Us: gaps.percentile(99),
                    prefillToDecodeGapUs: Percentile.of(gaps.prefillToDecode, 50), overlap: !noOverlap,
                    overlapRatio: Overlap.ratio(events))))
                continue
            }
            if ProcessInfo.processInfo.environment["RINGSIDE_DUMP_EVENTS"] != nil {
                let spans = events.filter { $0.kind == .begin || $0.kind == .end }
                let t0 = spans[min(400, spans.count - 1)].time
                for e in spans.dropFirst(400).prefix(60) {
                    print(String(format: "%10.1f us  %@ %@ %@ #%d", Double(e.time &- t0) / 1000, "\(e.lane)", "\(e.kind)", "\(e.span)", e.batch))
                }
            }
            var begins: [String: UInt64] = [:]
            var spans: [String: [Double]] = [:]
            for e in events where e.kind == .begin || e.kind == .end {
                let key = "\(e.lane) \(e.span)"
                if e.kind == .begin { begins[key] = e.time }
                if e.kind == .end, let b = begins[key] { spans[key, default: []].append(Double(e.time &- b) / 1e6) }
            }
            print("  retracted: \(events.filter { $0.kind == .counter && $0.metric == .retractedRequests }.count)")
            for (k, v) in spans.sorted(by: { $0.key < $1.key }) {
                print("  \(k): \(v.count) spans, mean \(String(format: "%.3f", v.reduce(0, +) / Double(v.count))) ms")
            }
            if !noRecord {
                let steps = max(1, spans["device decode"]?.count ?? 1)
                let stepMs = (spans["device decode"] ?? []).reduce(0, +) / Double(steps)
                let perStep = Double(events.count) / Double(steps)
                print(String(format: "  recorder: %.1f events per decode step x %.1f ns = %.4f %% of a %.2f ms step",
                             perStep, recordNs, perStep * recordNs / (stepMs * 1e6) * 100, stepMs))
            }
            print(String(format: "concurrency %2d: %6.1f decode t/s aggregate (%.1f t/s end to end, %.2f s)  gap p50 %@ p99 %@ prefill->decode %@  (overlap %@)",
                         c, decode.tokensPerSecond, Double(c * outputLen) / wall, wall,
                         gaps.describe(0.5), gaps.describe(0.99), gaps.prefillToDecodeMedian(),
                         noOverlap ? "off" : "on"))
        }
    }

    /// Nanoseconds one `Recorder.begin` costs (clock read and ring store).
    static func recorderCost() -> Double {
        let r = Recorder(capacityPerLane: 1 << 16)
        let n = 1_000_000
        let t0 = Recorder.now()
        for i in 0 ..< n { r.begin(.device, .decode, batch: UInt32(truncatingIfNeeded: i), tokens: 1, sequences: 1) }
        return Double(Recorder.now() - t0) / Double(n)
    }

    /// Runs the prompts at once; returns each request's time to first token in seconds.
    private func run(_ engine: Engine, prompts: [[Int32]], outputLen: Int) async throws -> [Double] {
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
}

extension GapStats {
    func describe(_ p: Double) -> String {
        percentile(p * 100).map { String(format: "%.0f us", $0) } ?? "-"
    }

    func prefillToDecodeMedian() -> String {
        Percentile.of(prefillToDecode, 50).map { String(format: "%.0f us", $0) } ?? "-"
    }
}

/// Tokens from decode batches per second of device time spent on them (each batch's span plus
/// the idle gap before it).
struct DecodeRate {
    var tokens = 0
    var seconds = 0.0

    init(_ events: [Event]) {
        var lastEnd: UInt64?
        var begin: (time: UInt64, batch: UInt32)?
        for e in events where e.lane == .device && e.span.isBatch {
            if e.kind == .begin {
                begin = (e.time, e.batch)
            } else if e.kind == .end, let b = begin, b.batch == e.batch {
                if e.span == .decode {
                    tokens += Int(e.a)
                    seconds += Double(e.time &- (lastEnd ?? b.time)) / 1e9
                }
                lastEnd = e.time
            }
        }
    }

    var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}
