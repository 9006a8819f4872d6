import Foundation

/// Requests finished so far, read by the progress bar while the run goes on.
public final class ResultCounter: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var done = 0
    private var failed = 0
    private var tokens = 0

    public init() {}

    public func add(_ r: RequestResult) {
        lock.lock()
        if r.ok { done += 1 } else { failed += 1 }
        tokens += r.outputTokens
        lock.unlock()
    }

    public var value: (done: Int, failed: Int, tokens: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (done, failed, tokens)
    }
}
