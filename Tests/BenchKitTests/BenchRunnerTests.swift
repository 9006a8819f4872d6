import Foundation
import Testing
@testable import BenchKit

/// A target that answers every request with its prompt length in tokens, after holding it
/// until `gate` requests are in flight together (or a second passes), and records how many
/// were in flight at most and when each arrived.
final class CountingTarget: BenchTarget, @unchecked Sendable {
    // All state below is guarded by `lock`.
    private let lock = NSLock()
    private var inFlight = 0
    private var mostInFlight = 0
    private var starts: [Date] = []
    let gate: Int

    init(gate: Int) { self.gate = gate }

    var maxInFlight: Int { locked { mostInFlight } }
    var arrivals: [Date] { locked { starts } }

    var name: String { "counting" }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    func send(_ r: BenchRequest, ignoreEOS: Bool) -> AsyncThrowingStream<BenchChunk, any Error> {
        AsyncThrowingStream { continuation in
            Task {
                locked {
                    inFlight += 1
                    mostInFlight = max(mostInFlight, inFlight)
                    starts.append(Date())
                }
                let deadline = Date().addingTimeInterval(1)
                while locked({ inFlight < gate }), Date() < deadline { try? await Task.sleep(nanoseconds: 1_000_000) }
                // Stay in flight a moment longer so that the next requests cannot overtake.
                try? await Task.sleep(nanoseconds: 5_000_000)
                continuation.yield(.output(tokens: r.outputLen, ids: (0 ..< r.outputLen).map { Int32($0) }))
                continuation.yield(.done(promptTokens: r.prompt.count, cachedTokens: 0, outputTokens: r.outputLen))
                locked { inFlight -= 1 }
                continuation.finish()
            }
        }
    }
}

@Suite("bench runner")
struct BenchRunnerTests {
    static func requests(_ n: Int) -> [BenchRequest] {
        (0 ..< n).map { BenchRequest(prompt: Array(repeating: 5, count: 10 + $0), outputLen: 3) }
    }

    @Test func concurrencyIsReachedAndNeverExceeded() async {
        let target = CountingTarget(gate: 3)
        let runner = BenchRunner(target: target, concurrency: 3, requestRate: nil, ignoreEOS: true, seed: 1, vocabSize: 1000)
        let counter = ResultCounter()
        let results = await runner.run(Self.requests(12), counter: counter)
        #expect(target.maxInFlight == 3)
        #expect(results.count == 12 && results.allSatisfy { $0.ok && $0.outputTokens == 3 })
        #expect(counter.value == (done: 12, failed: 0, tokens: 36))
        #expect(Set(results.map(\.promptTokens)) == Set(10 ..< 22))
    }

    @Test func withoutALimitEveryRequestIsInFlightAtOnce() async {
        let target = CountingTarget(gate: 8)
        let runner = BenchRunner(target: target, concurrency: nil, requestRate: nil, ignoreEOS: true, seed: 1, vocabSize: 1000)
        _ = await runner.run(Self.requests(8), counter: ResultCounter())
        #expect(target.maxInFlight == 8)
    }

    @Test func poissonGapsHaveTheRateAsMeanAndAsSpread() {
        let rate = 50.0
        let starts = Arrivals.starts(count: 20_001, rate: rate, seed: 3)
        let gaps = zip(starts, starts.dropFirst()).map { $1 - $0 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let sd = (gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count - 1)).squareRoot()
        // Exponential gaps: mean 1/rate, standard deviation equal to the mean (evenly spaced
        // arrivals would have none). 20 000 gaps put the mean within 1 % of 1/rate (1 sigma 0.7 %).
        #expect(starts.first == 0)
        #expect(abs(mean * rate - 1) < 0.03, "mean gap \(mean)")
        #expect(abs(sd / mean - 1) < 0.05, "coefficient of variation \(sd / mean)")
        #expect(Arrivals.starts(count: 100, rate: rate, seed: 3) == Array(starts.prefix(100)))
        #expect(Arrivals.starts(count: 100, rate: rate, seed: 4) != Array(starts.prefix(100)))
        #expect(Arrivals.starts(count: 5, rate: nil, seed: 3) == [0, 0, 0, 0, 0])
    }

    @Test func requestsStartNoEarlierThanTheirArrival() async {
        let target = CountingTarget(gate: 1)
        let runner = BenchRunner(target: target, concurrency: nil, requestRate: 40, ignoreEOS: true, seed: 9, vocabSize: 1000)
        let begin = Date()
        _ = await runner.run(Self.requests(6), counter: ResultCounter())
        let planned = Arrivals.starts(count: 6, rate: 40, seed: 9)
        let actual = target.arrivals.map { $0.timeIntervalSince(begin) }.sorted()
        #expect(planned.last! > 0.01)
        for (p, a) in zip(planned, actual) { #expect(a >= p - 0.002, "planned \(p) s, started \(a) s") }
    }

    @Test func multiTurnConversationsResendTheirHistory() async {
        let target = CountingTarget(gate: 1)
        let runner = BenchRunner(target: target, concurrency: 2, requestRate: nil, ignoreEOS: true, seed: 1, vocabSize: 1000)
        let turns = [BenchRequest(prompt: [1, 2], outputLen: 3, conversation: 0, turn: 0),
                     BenchRequest(prompt: [3], outputLen: 3, conversation: 0, turn: 1),
                     BenchRequest(prompt: [4, 5, 6, 7], outputLen: 3, conversation: 1, turn: 0)]
        let results = await runner.run(turns, counter: ResultCounter())
        // Turn 1 sends turn 0's prompt (2) and answer (3) before its own token.
        #expect(results.map(\.promptTokens).sorted() == [2, 4, 6])
        #expect(BenchRunner.units(turns).map { $0.map(\.turn) } == [[0, 1], [0]])
    }
}
