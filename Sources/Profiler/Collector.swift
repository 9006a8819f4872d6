import Foundation

/// Drains a recorder into memory on a background thread, so that runs longer than the rings
/// (minutes of benchmark, a whole chat session) keep every event for traces and reports.
public final class EventCollector: @unchecked Sendable {
    // `events` and `running` are guarded by `lock`; the cursor belongs to the drain thread
    // (and to `stop`, after the thread has finished).
    private let recorder: Recorder
    private let lock = NSLock()
    private var events: [Event] = []
    private var running = true
    private var cursor = Recorder.Cursor()
    private let done = DispatchSemaphore(value: 0)
    private let interval: TimeInterval

    /// Starts collecting what is recorded from now on.
    public init(_ recorder: Recorder, interval: TimeInterval = 0.05) {
        self.recorder = recorder
        self.interval = interval
        _ = recorder.read(&cursor)
        let t = Thread { [self] in drainLoop() }
        t.name = "ringside-collector"
        t.start()
    }

    private func drainLoop() {
        while true {
            lock.lock()
            let keepGoing = running
            lock.unlock()
            let fresh = recorder.read(&cursor)
            lock.lock()
            events += fresh
            lock.unlock()
            if !keepGoing { break }
            Thread.sleep(forTimeInterval: interval)
        }
        done.signal()
    }

    /// What has been collected so far, in time order.
    public var snapshot: [Event] {
        lock.lock()
        defer { lock.unlock() }
        return events.sorted { $0.time < $1.time }
    }

    /// Stops after one last drain and returns everything, in time order.
    public func stop() -> [Event] {
        lock.lock()
        running = false
        lock.unlock()
        done.wait()
        lock.lock()
        defer { lock.unlock() }
        return events.sorted { $0.time < $1.time }
    }
}
