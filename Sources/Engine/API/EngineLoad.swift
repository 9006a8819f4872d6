import Foundation

/// What the engine is doing, as of its host thread's last step: for a server's health,
/// admission control and metrics. Reading it never touches the device thread.
public struct EngineLoad: Sendable, Equatable {
    public var runningRequests = 0
    public var queuedRequests = 0
    public var kvPagesTotal = 0
    public var kvPagesFree = 0
    /// Cached prefixes no request holds: freed when pages run short.
    public var kvPagesEvictable = 0
    /// Cached prefixes some running request holds.
    public var kvPagesLocked = 0
    public var pageSize = 0
    public var radixQueryTokens = 0
    public var radixHitTokens = 0
    /// Requests the host thread has taken that were retracted to make room.
    public var retractedRequests = 0

    public init() {}

    /// Nothing runs or waits, and every page is free or held only by the prefix cache.
    public var isIdle: Bool {
        runningRequests == 0 && queuedRequests == 0 && kvPagesFree + kvPagesEvictable == kvPagesTotal
    }
}

/// The host thread's latest `EngineLoad`, written once a step under a lock the device thread
/// never takes.
final class LoadBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var value = EngineLoad()

    func publish(_ l: EngineLoad) {
        lock.lock()
        value = l
        lock.unlock()
    }

    var current: EngineLoad {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

extension Engine {
    /// The host thread's view after its last step.
    public var load: EngineLoad { scheduler.loadBoard.current }

    /// Drops every cached prefix (SGLang's `/flush_cache`). Refused, returning false, while
    /// requests run or wait, since their pages are in use.
    public func flushCache() async -> Bool {
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            scheduler.send(.flushCache({ c.resume(returning: $0) }))
        }
    }
}
