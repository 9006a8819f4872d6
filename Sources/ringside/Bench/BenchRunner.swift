import BenchKit
import Engine
import Foundation

/// At most `limit` requests in flight (nil: no limit).
actor Limiter {
    private var free: Int?
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int?) { free = limit }

    func acquire() async {
        guard let f = free else { return }
        if f > 0 {
            free = f - 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        guard free != nil else { return }
        if waiters.isEmpty { free! += 1 } else { waiters.removeFirst().resume() }
    }
}

/// Completed requests so far, for the progress bar.
final class Counter: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var done = 0
    private var failed = 0
    private var tokens = 0

    func add(_ r: RequestResult) {
        lock.lock()
        if r.ok { done += 1 } else { failed += 1 }
        tokens += r.outputTokens
        lock.unlock()
    }

    var value: (done: Int, failed: Int, tokens: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (done, failed, tokens)
    }
}

struct BenchRunner: Sendable {
    let target: any BenchTarget
    let concurrency: Int?
    let requestRate: Double?
    let ignoreEOS: Bool
    let seed: UInt64
    let vocabSize: Int

    /// Runs the requests (multi-turn ones conversation by conversation) and returns each
    /// request's result.
    func run(_ requests: [BenchRequest], counter: Counter) async -> [RequestResult] {
        let limiter = Limiter(concurrency)
        // Poisson arrivals: exponential gaps between starts (all at once when no rate).
        var rng = SeededGenerator(seed: seed &+ 7)
        let units = Self.units(requests)
        var starts: [Double] = []
        var t = 0.0
        for _ in units {
            starts.append(t)
            if let rate = requestRate, rate > 0 {
                let u = max(Double(rng.next() % 1_000_000) / 1_000_000, 1e-9)
                t += -log(u) / rate
            }
        }
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
    static func units(_ requests: [BenchRequest]) -> [[BenchRequest]] {
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
