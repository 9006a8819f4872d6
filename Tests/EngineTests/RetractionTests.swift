@testable import Engine
import Foundation
import Profiler
import Testing

/// Retraction under KV pressure, and the requests that are cut short with `length`. Most
/// cases run the echo network (its output is a hash of the KV it reads, so a request resumed
/// on wrong or stale pages gives different tokens); one runs SmolLM2 itself.
@Suite("retraction", .serialized)
struct RetractionTests {
    /// This suite's own copy: a model is not reentrant, and other suites run alongside.
    static let smol = Result { try LoadedModel(path: TestModels.smolPath.get()) }

    static func echoEngine(contextLength: Int = 4096, _ configure: (inout EngineConfig) -> Void) throws -> (Engine, EchoModel) {
        let base = try ScriptedModel.qwen3.get()
        let model = EchoModel(vocabSize: base.model.info.vocabSize, contextLength: contextLength)
        let engine = try EngineFixtures.engine(model: model.serving(like: base), configure)
        return (engine, model)
    }

    static func prompt(_ n: Int, seed: UInt64) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        return (0 ..< n).map { _ in Int32(20 + rng.next() % 280) }
    }

    /// Each request alone in a roomy pool: what pressure must not change.
    static func unpressured(_ requests: [GenerateRequest], real: Bool = false) async throws -> [[Int32]] {
        let engine = real ? try EngineFixtures.engine(model: smol.get()) { $0.kvCacheTokens = 4096 }
            : try echoEngine { $0.kvCacheTokens = 8192 }.0
        defer { engine.shutdown() }
        var out: [[Int32]] = []
        for r in requests { out.append(try await collect(engine.submit(r)).ids) }
        return out
    }

    static func together(_ engine: Engine, _ requests: [GenerateRequest]) async throws -> [Int: Collected] {
        try await withThrowingTaskGroup(of: (Int, Collected).self) { group in
            for (i, r) in requests.enumerated() { group.addTask { (i, try await collect(engine.submit(r))) } }
            return try await group.reduce(into: [Int: Collected]()) { $0[$1.0] = $1.1 }
        }
    }

    @Test("a small pool retracts, and retracted requests still give their unpressured output",
          arguments: [(true, true), (false, true), (true, false)])
    func retractedOutputsMatch(radix: Bool, overlap: Bool) async throws {
        let reqs = (0 ..< 6).map { EngineFixtures.greedy(Self.prompt(40 + 9 * $0, seed: 500 + UInt64($0)), max: 150) }
        let want = try await Self.unpressured(reqs)
        // 6 requests of ~60 prompt + 150 generated tokens need ~80 pages together; the pool has 32.
        let (engine, model) = try Self.echoEngine { $0.kvCacheTokens = 512; $0.radixCache = radix; $0.overlap = overlap }
        defer { engine.shutdown() }
        let collector = EventCollector(engine.recorder, interval: 0.01)
        let got = try await Self.together(engine, reqs)
        let retracted = Totals(collector.stop()).counters[.retractedRequests] ?? 0
        #expect(retracted > 0, "the pool was small enough to force retraction")
        for i in reqs.indices {
            #expect(got[i]?.ids == want[i], "request \(i): \(got[i]?.ids.count ?? 0) tokens (radix \(radix), overlap \(overlap))")
            #expect(got[i]?.reason == .length)
        }
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.clean, "\(s)")
        #expect(model.misplaced == 0)
    }

    @Test func smolLM2RecomputesRetractedRequestsExactly() async throws {
        // Two requests of 100 + 40 tokens (9 pages each) in a pool of 16 pages.
        let reqs = (0 ..< 2).map { EngineFixtures.greedy(EngineFixtures.fillerPrompt(100, seed: 40 + UInt64($0)), max: 40) }
        let want = try await Self.unpressured(reqs, real: true)
        let engine = try EngineFixtures.engine(model: Self.smol.get()) { $0.kvCacheTokens = 256 }
        defer { engine.shutdown() }
        let collector = EventCollector(engine.recorder, interval: 0.01)
        let got = try await Self.together(engine, reqs)
        #expect((Totals(collector.stop()).counters[.retractedRequests] ?? 0) > 0)
        for i in reqs.indices { #expect(got[i]?.ids == want[i], "request \(i)") }
        #expect(engine.scheduler.invariantViolations.isEmpty)
    }

    @Test func aRequestThatOutgrowsThePoolAloneEndsWithLength() async throws {
        // 256 KV slots hold the 200-token prompt and 56 generated tokens; a 57th is sampled
        // from the last of them and needs no slot. Asking for 100, or for far more than the
        // pool could ever reserve (admission used to wait for that reserve forever).
        let prompt = Self.prompt(200, seed: 9)
        let want = try await Self.unpressured([EngineFixtures.greedy(prompt, max: 100)])[0]
        let (engine, model) = try Self.echoEngine { $0.kvCacheTokens = 256 }
        defer { engine.shutdown() }
        for max in [100, 1000] {
            let c = try await collect(engine.submit(EngineFixtures.greedy(prompt, max: max)))
            #expect(c.reason == .length)
            #expect(c.ids == Array(want.prefix(57)), "max \(max): \(c.ids.count) tokens")
        }
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.clean, "\(s)")
        #expect(model.misplaced == 0)
    }

    @Test func aDecoderIsNotCutShortWhileAnotherRequestsPrefillHoldsPages() async throws {
        // A decodes 200 tokens while B's long prompt goes in chunks of 16. Together they need
        // more than the pool, A alone fits: B must give way, A must not be cut short.
        let a = EngineFixtures.greedy(Self.prompt(20, seed: 11), max: 200)
        let b = EngineFixtures.greedy(Self.prompt(200, seed: 12), max: 4)
        let want = try await Self.unpressured([a, b])
        let (engine, model) = try Self.echoEngine { $0.kvCacheTokens = 256; $0.chunkedPrefillSize = 16 }
        defer { engine.shutdown() }
        // B arrives once A is decoding: told by A's first token, not by polling the scheduler (a
        // poll could miss A's whole run on a busy machine, and then waited forever).
        let (decoding, note) = AsyncStream<Void>.makeStream()
        let first = Task {
            defer { note.finish() }
            var c = Collected()
            for try await e in engine.submit(a) {
                if case let .delta(_, _, tokens, _) = e {
                    if c.ids.isEmpty { note.yield() }
                    c.ids += tokens
                } else if case let .finished(reason, _, _) = e {
                    c.reason = reason
                }
            }
            return c
        }
        for await _ in decoding { break }
        let second = try await collect(engine.submit(b))
        let got = try await first.value
        #expect(got.ids == want[0], "A: \(got.ids.count) of 200 tokens, \(String(describing: got.reason))")
        #expect(second.ids == want[1], "B")
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.clean, "\(s)")
        #expect(model.misplaced == 0)
    }

    @Test func prefillsThatShareThePoolDoNotWaitOnEachOther() async throws {
        // Two 150-token prompts in chunks of 16 into 256 slots: together they fill the pool
        // before either finishes its prefill. One must give way.
        let reqs = (0 ..< 2).map { EngineFixtures.greedy(Self.prompt(150, seed: 20 + UInt64($0)), max: 4) }
        let want = try await Self.unpressured(reqs)
        let (engine, model) = try Self.echoEngine { $0.kvCacheTokens = 256; $0.chunkedPrefillSize = 16 }
        defer { engine.shutdown() }
        let got = try await Self.together(engine, reqs)
        for i in reqs.indices { #expect(got[i]?.ids == want[i], "request \(i)") }
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.clean, "\(s)")
        #expect(model.misplaced == 0)
    }

    @Test func outputStopsAtTheModelsContext() async throws {
        // A 64-token context: 30 prompt tokens leave room for 34, whatever max_tokens says.
        let want = try await Self.unpressured([EngineFixtures.greedy(Self.prompt(30, seed: 3), max: 34)])[0]
        for overlap in [true, false] {
            let (engine, model) = try Self.echoEngine(contextLength: 64) { $0.kvCacheTokens = 1024; $0.overlap = overlap }
            defer { engine.shutdown() }
            let c = try await collect(engine.submit(EngineFixtures.greedy(Self.prompt(30, seed: 3), max: 100)))
            #expect(c.reason == .length && c.ids == want, "overlap \(overlap): \(c.ids.count) tokens")
            #expect(engine.maxPromptTokens == 63)
            let s = try await SchedulerSnapshot.whenIdle(engine)
            #expect(s.clean, "\(s)")
            #expect(model.misplaced == 0)
        }
    }
}
