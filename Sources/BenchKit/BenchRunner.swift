import Engine
import Foundation

/// Sends a benchmark's requests to a target: at most `concurrency` in flight, each starting no
/// earlier than its Poisson arrival time, multi-turn conversations one turn after another.
public struct BenchRunner: Sendable {
    public let target: any BenchTarget
    public let concurrency: Int?
    public let requestRate: Double?
    public let ignoreEOS: Bool
    public let seed: UInt64
    public let vocabSize: Int

    public init(target: any BenchTarget, concurrency: Int?, requestRate: Double?, ignoreEOS: Bool, seed: UInt64, vocabSize: Int) {
        self.target = target
        self.concurrency = concurrency
        self.requestRate = requestRate
        self.ignoreEOS = ignoreEOS
        self.seed = seed
        self.vocabSize = vocabSize
    }

    /// Runs the requests (multi-turn ones conversation by conversation) and returns each
    /// request's result.
    public func run(_ requests: [BenchRequest], counter: ResultCounter) async -> [RequestResult] {
        let limiter = Limiter(concurrency)
        let units = Self.units(requests)
        let starts = Arrivals.starts(count: units.count, rate: requestRate, seed: seed)
        let begin = Date()
        return await withTaskGroup(of: [RequestResult].self) { group in
            for (i, unit) in units.enumerated() {
                let startAt = starts[i]
                group.addTask {
                    let wait = startAt - Date().timeIntervalSince(begin)
                    if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1e9)) }
                    await limiter.acquire()
                    var results: [RequestResult] = []
                    var history: [Int32] = []
                    var fillRNG = SeededGenerator(seed: seed &+ UInt64(i) &* 31)
                    for var r in unit {
                        r.prompt = history + r.prompt
                        let (result, ids) = await one(r)
                        counter.add(result)
                        results.append(result)
                        // The next turn re-sends the conversation so far, answer included (the
                        // server's own tokens when known, same-length filler otherwise).
                        let answer = ids.count == result.outputTokens ? ids
                            : (0 ..< result.outputTokens).map { _ in Int32(100 + fillRNG.next() % UInt64(max(vocabSize - 100, 1))) }
                        history = r.prompt + answer
                    }
                    await limiter.release()
                    return results
                }
            }
            var all: [RequestResult] = []
            for await rs in group { all += rs }
            return all
        }
    }

    /// Single requests, or whole conversations in turn order.
    public static func units(_ requests: [BenchRequest]) -> [[BenchRequest]] {
        if requests.allSatisfy({ $0.conversation < 0 }) { return requests.map { [$0] } }
        var byConversation: [Int: [BenchRequest]] = [:]
        for r in requests { byConversation[r.conversation, default: []].append(r) }
        return byConversation.keys.sorted().map { byConversation[$0]!.sorted { $0.turn < $1.turn } }
    }

    private func one(_ r: BenchRequest) async -> (RequestResult, [Int32]) {
        var result = RequestResult()
        result.promptTokens = r.prompt.count
        var ids: [Int32] = []
        let t0 = Date()
        var last = t0
        var chunks = 0
        do {
            for try await c in target.send(r, ignoreEOS: ignoreEOS) {
                switch c {
                case let .output(tokens, newIDs):
                    let now = Date()
                    if chunks == 0 { result.ttft = now.timeIntervalSince(t0) } else { result.itls.append(now.timeIntervalSince(last)) }
                    last = now
                    chunks += tokens
                    ids += newIDs
                case let .done(prompt, cached, output):
                    if let p = prompt { result.promptTokens = p }
                    result.cachedTokens = cached
                    result.outputTokens = output ?? chunks
                }
            }
            result.ok = true
        } catch {
            result.error = "\(error)"
        }
        result.e2e = Date().timeIntervalSince(t0)
        return (result, ids)
    }
}
