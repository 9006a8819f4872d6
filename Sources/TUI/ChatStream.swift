import Engine
import Foundation

/// What a streaming answer has produced since the UI last looked: filled by the task that
/// reads the engine's stream, drained by the UI thread once per frame.
final class ChatStream: @unchecked Sendable {
    struct Update {
        var text = ""
        var reasoning = ""
        var tokens = 0
        var finished: (Usage, Timings)?
        var failure: String?
        var done = false
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var pending = Update()
    private var task: Task<Void, Never>?

    /// Starts reading an answer's stream (from the engine or a server).
    init(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) {
        task = Task { [self] in
            do {
                for try await e in stream { record(e) }
                finish(nil)
            } catch is CancellationError {
                finish("cancelled")
            } catch {
                finish("\(error)")
            }
        }
    }

    private func record(_ e: GenerationEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch e {
        case let .delta(text, reasoning, tokens, _):
            pending.text += text
            pending.reasoning += reasoning
            pending.tokens += tokens.count
        case let .finished(_, usage, timings):
            pending.finished = (usage, timings)
        }
    }

    private func finish(_ failure: String?) {
        lock.lock()
        pending.failure = failure
        pending.done = true
        lock.unlock()
    }

    /// Ends the request; its KV pages go back to the pool.
    func cancel() { task?.cancel() }

    func take() -> Update {
        lock.lock()
        defer {
            pending = Update()
            lock.unlock()
        }
        return pending
    }
}
