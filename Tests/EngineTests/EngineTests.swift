@testable import Engine
import Foundation
import Testing

/// What a request's stream delivered.
struct Collected {
    var ids: [Int32] = []
    var text = ""
    var reasoning = ""
    var deltas = 0
    var reason: FinishReason?
    var usage: Usage?
    var logprobs: [TokenLogprob] = []
}

func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> Collected {
    var c = Collected()
    for try await e in stream {
        switch e {
        case let .delta(text, reasoning, tokens, lps):
            c.ids += tokens
            c.text += text
            c.reasoning += reasoning
            c.deltas += 1
            c.logprobs += lps
        case let .finished(reason, usage, _):
            c.reason = reason
            c.usage = usage
        }
    }
    return c
}

enum EngineFixtures {
    static let smol = Result { try LoadedModel(path: TestModels.smolPath.get()) }

    /// A model is not reentrant: suites that may run alongside this one pass their own.
    static func engine(model: LoadedModel? = nil, _ configure: (inout EngineConfig) -> Void = { _ in }) throws -> Engine {
        var c = EngineConfig()
        c.kvCacheTokens = 8192
        configure(&c)
        let e = Engine(try model ?? smol.get(), config: c)
        e.scheduler.checkInvariants = true
        return e
    }

    static func greedy(_ ids: [Int32], max: Int, ignoreEOS: Bool = true) -> GenerateRequest {
        GenerateRequest(input: .tokens(ids), params: SamplingParams(maxTokens: max, ignoreEOS: ignoreEOS))
    }

    /// Prompts of assorted lengths from the model's own vocabulary.
    static func fillerPrompt(_ n: Int, seed: UInt64) -> [Int32] {
        var rng = SeededGenerator(seed: seed)
        return (0 ..< n).map { _ in Int32(200 + rng.next() % 20000) }
    }
}

@Suite("engine core", .serialized)
struct EngineTests {
    static let references = ["smollm2-greedy-capital", "smollm2-greedy-swift", "smollm2-greedy-chat"]

    @Test("reference prompts give the same greedy ids alone and among 15 other requests, overlap on and off",
          arguments: [true, false])
    func batchInvariance(overlap: Bool) async throws {
        let engine = try EngineFixtures.engine { $0.overlap = overlap; $0.chunkedPrefillSize = 64 }
        defer { engine.shutdown() }
        let refs = try Self.references.map { try ReferenceOutput.load($0) }
        for ref in refs {
            let alone = try await collect(engine.submit(EngineFixtures.greedy(ref.prompt_ids, max: ref.generated_ids.count)))
            #expect(alone.ids == ref.generated_ids, "\(ref.prompt) alone")
        }
        // Arrivals are staggered by events, not by clock time: each filler is submitted once
        // the one before it is decoding, and reference k once filler 4k+2 is, so the
        // references always join a batch already full of other work however slow the machine.
        let (decoding, note) = AsyncStream<Int>.makeStream()
        try await withThrowingTaskGroup(of: (Int, Collected).self) { group in
            var started = Set<Int>()
            func submitFiller(_ i: Int) {
                group.addTask {
                    let p = EngineFixtures.fillerPrompt(20 + 37 * i, seed: UInt64(i))
                    var c = Collected()
                    // A filler that fails before its first token still lets the next one go (its
                    // error then fails the test), instead of leaving the loop below waiting.
                    defer { if c.ids.isEmpty { note.yield(i) } }
                    for try await e in engine.submit(EngineFixtures.greedy(p, max: 10 + 3 * i)) {
                        if case let .delta(_, _, tokens, _) = e {
                            if c.ids.isEmpty { note.yield(i) }
                            c.ids += tokens
                        } else if case let .finished(reason, _, _) = e {
                            c.reason = reason
                        }
                    }
                    return (-1, c)
                }
            }
            submitFiller(0)
            for await i in decoding {
                started.insert(i)
                if i + 1 < 15 { submitFiller(i + 1) }
                if (i - 2) % 4 == 0, (i - 2) / 4 < refs.count {
                    let k = (i - 2) / 4
                    let ref = refs[k]
                    group.addTask { (k, try await collect(engine.submit(EngineFixtures.greedy(ref.prompt_ids, max: ref.generated_ids.count)))) }
                }
                if started.count == 15 { break }
            }
            for try await (k, c) in group {
                if k >= 0 { #expect(c.ids == refs[k].generated_ids, "\(refs[k].prompt) in a crowd (overlap \(overlap))") }
                #expect(c.reason == .length)
            }
        }
        #expect(engine.scheduler.invariantViolations.isEmpty, "\(engine.scheduler.invariantViolations.prefix(3))")
    }

    @Test func sharedPrefixIsCachedAndChangesNothing() async throws {
        let system = EngineFixtures.fillerPrompt(100, seed: 42)
        let a = system + [504, 3575, 282, 4649, 314]
        let b = system + [14395, 2706, 314, 253, 6256, 1789, 338]
        var outputs: [[Int32]] = []
        for radix in [true, false] {
            let engine = try EngineFixtures.engine { $0.radixCache = radix }
            let first = try await collect(engine.submit(EngineFixtures.greedy(a, max: 12)))
            let second = try await collect(engine.submit(EngineFixtures.greedy(b, max: 12)))
            if radix {
                #expect(first.usage?.cachedPromptTokens == 0)
                #expect(second.usage?.cachedPromptTokens == 96, "100 shared tokens, in whole pages of 16")
            } else {
                #expect(second.usage?.cachedPromptTokens == 0)
            }
            outputs.append(first.ids + second.ids)
            engine.shutdown()
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test func burstWithOneSystemPromptComputesItOnce() async throws {
        let engine = try EngineFixtures.engine()
        defer { engine.shutdown() }
        let system = EngineFixtures.fillerPrompt(160, seed: 7)
        let results = try await withThrowingTaskGroup(of: Collected.self) { group in
            for i in 0 ..< 8 {
                group.addTask { try await collect(engine.submit(EngineFixtures.greedy(system + [Int32(300 + i), 13, 14], max: 4))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let cached = results.map { $0.usage!.cachedPromptTokens }.sorted()
        #expect(cached == [0] + Array(repeating: 160, count: 7), "\(cached)")
    }

    @Test func pressureManyRequestsSmallPool() async throws {
        let engine = try EngineFixtures.engine { $0.kvCacheTokens = 3072; $0.maxRunningRequests = 64 }
        defer { engine.shutdown() }
        let prompts = (0 ..< 8).map { EngineFixtures.fillerPrompt(30 + 5 * $0, seed: 100 + UInt64($0)) }
        // Each distinct prompt alone first: the expected output.
        var expected: [[Int32]] = []
        for p in prompts { expected.append(try await collect(engine.submit(EngineFixtures.greedy(p, max: 200))).ids) }
        let results = try await withThrowingTaskGroup(of: (Int, Collected).self) { group in
            for i in 0 ..< 64 {
                group.addTask { (i, try await collect(engine.submit(EngineFixtures.greedy(prompts[i % 8], max: 200)))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (i, c) in results {
            #expect(c.ids == expected[i % 8], "request \(i)")
        }
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.violations.isEmpty, "\(s.violations.prefix(3))")
        #expect(s.clean, "all pages free or evictable, none locked, every row free: \(s)")
    }

    @Test func cancellingFreesEverything() async throws {
        let engine = try EngineFixtures.engine()
        defer { engine.shutdown() }
        // Each request is cancelled once it is decoding (its first token has arrived).
        let (started, startedNote) = AsyncStream<Void>.makeStream()
        let tasks = (0 ..< 6).map { i in
            Task {
                var n = 0
                for try await e in engine.submit(EngineFixtures.greedy(EngineFixtures.fillerPrompt(50, seed: UInt64(i)), max: 500)) {
                    if case .delta = e, n == 0 { startedNote.yield() }
                    n += 1
                }
                return n
            }
        }
        var decoding = 0
        for await _ in started {
            decoding += 1
            if decoding == tasks.count { break }
        }
        for t in tasks { t.cancel() }
        for t in tasks { #expect((try? await t.value) ?? 0 < 500, "cancelled before its 500 tokens") }
        // The engine still serves.
        let after = try await collect(engine.submit(EngineFixtures.greedy([504, 3575, 282, 4649, 314], max: 3)))
        #expect(after.ids == [7042, 30, 198])
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.clean, "\(s)")
    }

    @Test func badRequestsFailAloneAndClearly() async throws {
        let engine = try EngineFixtures.engine { $0.kvCacheTokens = 1024 }
        defer { engine.shutdown() }
        // 1024 KV slots: at most 1023 prompt tokens leave room for one generated token.
        #expect(engine.maxPromptTokens == 1023)
        await #expect(throws: EngineError.promptTooLong(tokens: 5000, limit: 1023)) {
            _ = try await collect(engine.submit(EngineFixtures.greedy([Int32](repeating: 504, count: 5000), max: 4)))
        }
        await #expect(throws: EngineError.emptyPrompt) { _ = try await collect(engine.submit(EngineFixtures.greedy([], max: 4))) }
        await #expect(throws: EngineError.invalidToken(99999, vocabSize: 49152)) {
            _ = try await collect(engine.submit(EngineFixtures.greedy([99999], max: 4)))
        }
        let ok = try await collect(engine.submit(EngineFixtures.greedy([504, 3575, 282, 4649, 314], max: 2)))
        #expect(ok.ids == [7042, 30])
    }

    @Test func stopStringsSeedsAndLogprobs() async throws {
        // fp32 activations: the log-probabilities are checked against the fp32 reference to 1e-3.
        let engine = try EngineFixtures.engine { $0.fp32Activations = true }
        defer { engine.shutdown() }
        let loaded = try EngineFixtures.smol.get()
        // " Paris.\n\nThe answer is: 2" stops before ".\n\nThe".
        var req = EngineFixtures.greedy([504, 3575, 282, 4649, 314], max: 10)
        req.stop = ["\n\nThe"]
        let stopped = try await collect(engine.submit(req))
        #expect(stopped.text == " Paris.")
        #expect(stopped.reason == .stop)

        var sampled = GenerateRequest(input: .text("Once upon a time"),
                                      params: SamplingParams(temperature: 0.8, topP: 0.9, seed: 7, maxTokens: 16, ignoreEOS: true))
        let one = try await collect(engine.submit(sampled))
        async let x = collect(engine.submit(EngineFixtures.greedy(EngineFixtures.fillerPrompt(300, seed: 1), max: 30)))
        let two = try await collect(engine.submit(sampled))
        _ = try await x
        #expect(one.ids == two.ids, "same seed, same output, whatever runs alongside")
        sampled.params.seed = 8
        #expect(try await collect(engine.submit(sampled)).ids != one.ids)

        var withLogprobs = EngineFixtures.greedy([504, 3575, 282, 4649, 314], max: 1)
        withLogprobs.topLogprobs = 3
        let lp = try await collect(engine.submit(withLogprobs))
        let first = try #require(lp.logprobs.first)
        #expect(first.id == 7042 && first.top.map(\.id) == [7042, 260, 4528])
        #expect(first.logprob < 0 && first.logprob == first.top[0].logprob)
        // Differences of log-probabilities are differences of logits: the reference's top-5.
        let ref = try ReferenceOutput.load("smollm2-greedy-capital").first_top5.map { $0[1].number! }
        #expect(abs(Double(first.top[0].logprob - first.top[1].logprob) - (ref[0] - ref[1])) < 1e-3)
        #expect(abs(Double(first.top[0].logprob - first.top[2].logprob) - (ref[0] - ref[2])) < 1e-3)
        #expect(loaded.tokenizer.decode([first.id], skipSpecial: true) == " Paris")
    }
}
