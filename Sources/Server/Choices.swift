import Engine
import Foundation

/// An event of one choice of a request: the engine's events tagged with the choice's index,
/// or how it failed.
enum ChoiceEvent: Sendable {
    case event(Int, GenerationEvent)
    case failed(Int, any Error)
}

/// Runs every choice of a request on the engine (prompt i's choice j is choice i*n + j) and
/// merges their events into one stream. Ending the stream early, or cancelling the task that
/// reads it, cancels the engine requests, which frees their KV pages.
struct ChoiceRunner: Sendable {
    let engine: Engine
    let metrics: ServerMetrics
    let admission: Admission

    /// The merged events, and a cancel that ends every choice still running. The reader must
    /// call it when it stops early: the producers hold the stream, so dropping it ends nothing.
    func run(_ request: CompletionRequest, arrival: ContinuousClock.Instant) -> (AsyncStream<ChoiceEvent>, @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<ChoiceEvent>.makeStream()
        var jobs: [(Int, GenerateRequest, Int)] = []
        for (i, prompt) in request.prompts.enumerated() {
            for j in 0 ..< request.n {
                var g = request.base
                g.input = .tokens(prompt)
                // n choices with one seed would be n copies of one answer.
                if j > 0, let s = g.params.seed { g.params.seed = s &+ UInt64(j) }
                jobs.append((i * request.n + j, g, prompt.count))
            }
        }
        let engine = engine, metrics = metrics, admission = admission
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                for (index, g, promptCount) in jobs {
                    group.addTask {
                        admission.started()
                        defer { admission.finished() }
                        var first = true
                        var last = arrival
                        var generated = 0
                        var done = false
                        do {
                            for try await e in engine.submit(g) {
                                switch e {
                                case .delta(_, _, let tokens, _):
                                    let now = ContinuousClock.now
                                    if first, !tokens.isEmpty {
                                        metrics.firstToken(after: Self.seconds(now - arrival))
                                        metrics.tokens(tokens.count, after: nil)
                                        first = false
                                    } else {
                                        metrics.tokens(tokens.count, after: Self.seconds(now - last))
                                    }
                                    last = now
                                    generated += tokens.count
                                case .finished(_, let usage, let timings):
                                    metrics.requestFinished(usage: usage, timings: timings)
                                    done = true
                                }
                                continuation.yield(.event(index, e))
                            }
                            // A cancelled stream just ends.
                            if !done {
                                metrics.requestAborted(promptTokens: promptCount, generated: generated)
                                continuation.yield(.failed(index, CancellationError()))
                            }
                        } catch {
                            metrics.requestAborted(promptTokens: promptCount, generated: generated)
                            continuation.yield(.failed(index, error))
                        }
                    }
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return (stream, { task.cancel() })
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Counts generation requests the server has handed to the engine and not seen finish, so
/// that a burst is refused before it reaches the engine's queue (`--max-queued-requests`).
final class Admission: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var outstanding = 0
    private var reserved = 0

    var inFlight: Int {
        lock.lock()
        defer { lock.unlock() }
        return outstanding + reserved
    }

    /// Reserves `count` places unless more than `limit` requests would then wait beyond the
    /// `capacity` the engine runs at once.
    func reserve(_ count: Int, capacity: Int, limit: Int?) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let limit, outstanding + reserved + count - capacity > limit { return false }
        reserved += count
        return true
    }

    func started() {
        lock.lock()
        reserved = max(reserved - 1, 0)
        outstanding += 1
        lock.unlock()
    }

    func finished() {
        lock.lock()
        outstanding -= 1
        lock.unlock()
    }
}
