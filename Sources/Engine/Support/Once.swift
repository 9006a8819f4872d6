import Foundation

/// True the first time only.
final class Once: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var done = false

    func claim() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
