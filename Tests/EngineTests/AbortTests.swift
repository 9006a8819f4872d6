@testable import Engine
import Foundation
import Testing

/// Aborting a request at an exact point of its life. A hook on the host thread notices the
/// moment (waiting, mid-prefill, decoding), lets the test cancel, and holds the host until the
/// cancellation is in its inbox, so the request cannot slip to a later state first.
@Suite("abort", .serialized)
struct AbortTests {
    /// Host-thread state shared with the test through a lock.
    final class Probe: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var armed: [(Scheduler) -> Bool]
        let reached = AsyncStream<Void>.makeStream()

        /// Each condition fires once, in order; after each the host waits for the next command.
        init(_ conditions: ((Scheduler) -> Bool)...) { armed = conditions }

        func afterStep(_ s: Scheduler) {
            lock.lock()
            let condition = armed.first
            lock.unlock()
            if let c = condition, c(s) {
                lock.lock()
                armed.removeFirst()
                lock.unlock()
                reached.continuation.yield()
                // Hold the host thread until the test's next command has arrived (a generous
                // bound only against a test bug; the wait ends as soon as the command is there).
                let giveUp = Date().addingTimeInterval(300)
                while !s.hasPendingCommands && Date() < giveUp { usleep(200) }
            }
        }
    }

    /// A scripted network (instant forward passes) under qwen3-tiny's tokenizer: the test is
    /// about the scheduler's bookkeeping, not the numbers.
    static func engine(_ configure: (inout EngineConfig) -> Void = { _ in }) throws -> (Engine, LoadedModel) {
        let base = try ScriptedModel.qwen3.get()
        let model = ScriptedModel(vocabSize: base.model.info.vocabSize) { p in Int32(100 + p % 50) }
        var config = EngineConfig()
        config.kvCacheTokens = 2048
        configure(&config)
        let loaded = model.serving(like: base)
        let engine = Engine(loaded, config: config)
        engine.scheduler.checkInvariants = true
        return (engine, loaded)
    }

    static func request(_ n: Int, max: Int, seed: UInt64) -> GenerateRequest {
        var rng = SeededGenerator(seed: seed)
        return EngineFixtures.greedy((0 ..< n).map { _ in Int32(20 + rng.next() % 300) }, max: max)
    }

    static func checkClean(_ engine: Engine) async throws {
        let s = try await SchedulerSnapshot.whenIdle(engine)
        #expect(s.lockedPages == 0, "no radix page stays locked: \(s)")
        #expect(s.freePages + s.evictablePages == s.pages, "every page free or evictable: \(s)")
        #expect(s.freeRows == s.rows, "every request row back: \(s)")
        #expect(s.violations.isEmpty, "\(s.violations.prefix(3))")
    }

    @Test func cancelWhileWaiting() async throws {
        let (engine, _) = try Self.engine { $0.maxRunningRequests = 1 }
        defer { engine.shutdown() }
        // Request 1 runs; request 2 can only wait behind it (one running request at most).
        // The host is held once request 1 runs until request 2 arrives, and once request 2
        // waits until its cancellation arrives.
        let probe = Probe({ s in s.running.contains { $0.id == 1 && !$0.isDone } },
                          { s in s.running.contains { $0.id == 1 && !$0.isDone } && s.waiting.contains { $0.id == 2 } })
        engine.scheduler.afterStep = probe.afterStep
        let first = Task { try await collect(engine.submit(Self.request(40, max: 1000, seed: 1))) }
        var events = probe.reached.stream.makeAsyncIterator()
        _ = await events.next()
        let waiting = Task { try await collect(engine.submit(Self.request(40, max: 30, seed: 2))) }
        _ = await events.next()
        waiting.cancel()
        let cancelled = await waiting.result
        if case let .success(c) = cancelled {
            #expect(c.reason == nil && c.ids.isEmpty, "a cancelled request ends without output or a finish event: \(c)")
        } else if case let .failure(e) = cancelled {
            #expect(e is CancellationError, "\(e)")
        }
        let done = try await first.value
        #expect(done.reason == .length && done.ids.count == 1000, "the running request is not disturbed")
        try await Self.checkClean(engine)
    }

    @Test(arguments: [true, false])
    func cancelMidPrefill(overlap: Bool) async throws {
        let (engine, _) = try Self.engine { $0.chunkedPrefillSize = 64; $0.overlap = overlap }
        defer { engine.shutdown() }
        // 600 prompt tokens go in chunks of 64: cancel once two chunks are scheduled.
        let probe = Probe({ s in s.running.contains { $0.id == 1 && $0.inPrefill && $0.kvComputed >= 128 && $0.kvComputed < 600 } })
        engine.scheduler.afterStep = probe.afterStep
        let task = Task { try await collect(engine.submit(Self.request(600, max: 20, seed: 3))) }
        for await _ in probe.reached.stream { break }
        task.cancel()
        let r = await task.result
        if case let .success(c) = r { #expect(c.reason == nil && c.ids.isEmpty, "\(c)") }
        try await Self.checkClean(engine)
        // The engine still serves, and the cancelled prompt's computed pages can be found again.
        let again = try await collect(engine.submit(Self.request(600, max: 2, seed: 3)))
        #expect(again.ids.count == 2 && (again.usage?.cachedPromptTokens ?? 0) >= 64)
    }

    @Test(arguments: [true, false])
    func cancelWhileDecodingByDroppingTheStream(overlap: Bool) async throws {
        let (engine, _) = try Self.engine { $0.overlap = overlap }
        defer { engine.shutdown() }
        let probe = Probe({ s in s.running.contains { $0.id == 1 && $0.output.count >= 3 } })
        engine.scheduler.afterStep = probe.afterStep
        // A consumer that reads three tokens and walks away (breaks out of its loop): the
        // stream is dropped, which cancels like a cancelled task does.
        let task = Task { () -> [Int32] in
            var ids: [Int32] = []
            for try await e in engine.submit(Self.request(30, max: 500, seed: 4)) {
                if case let .delta(_, _, tokens, _) = e { ids += tokens }
                if ids.count >= 3 { break }
            }
            return ids
        }
        for await _ in probe.reached.stream { break }
        let ids = try await task.value
        #expect(ids.count >= 3)
        try await Self.checkClean(engine)
        // A request of 500 tokens that was abandoned after ~3 did not run on.
        #expect(engine.scheduler.steps < 100, "steps \(engine.scheduler.steps)")
    }

    @Test func cancelWhileDecodingByCancellingTheTask() async throws {
        let (engine, _) = try Self.engine()
        defer { engine.shutdown() }
        let probe = Probe({ s in s.running.contains { $0.id == 1 && $0.output.count >= 5 } })
        engine.scheduler.afterStep = probe.afterStep
        let task = Task { try await collect(engine.submit(Self.request(30, max: 500, seed: 5))) }
        for await _ in probe.reached.stream { break }
        task.cancel()
        if case let .success(c) = await task.result {
            #expect(c.reason == nil && c.ids.count >= 5 && c.ids.count < 500, "\(c.ids.count) tokens, reason \(String(describing: c.reason))")
        }
        try await Self.checkClean(engine)
    }
}
