import Foundation

/// Request ids, unique per engine.
final class IDCounter: @unchecked Sendable {
    // Guarded by `lock`; submit may be called from any task.
    private let lock = NSLock()
    private var value: UInt64 = 0

    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
