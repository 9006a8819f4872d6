import Foundation

/// `[#####.....] 12/64 requests  8.1 s  312 tok/s` on stderr, redrawn in place a few times a
/// second on a terminal, a line every five seconds in a log.
public final class ProgressBar: @unchecked Sendable {
    /// Requests done, failed, and output tokens so far.
    public typealias Progress = (done: Int, failed: Int, tokens: Int)

    // `running` is guarded by `lock`.
    private let total: Int
    private let read: @Sendable () -> Progress
    private let lock = NSLock()
    private var running = true
    private let finished = DispatchSemaphore(value: 0)
    private let began = Date()

    public init(total: Int, read: @escaping @Sendable () -> Progress) {
        self.total = total
        self.read = read
    }

    public func start() {
        let tty = isatty(2) != 0
        Thread { [self] in
            var ticks = 0
            while true {
                lock.lock()
                let go = running
                lock.unlock()
                if tty || !go || ticks % 20 == 19 {
                    let line = Self.line(read(), total: total, seconds: Date().timeIntervalSince(began), tty: tty, final: !go)
                    FileHandle.standardError.write(Data(line.utf8))
                }
                if !go { break }
                ticks += 1
                Thread.sleep(forTimeInterval: 0.25)
            }
            finished.signal()
        }.start()
    }

    /// Draws the last line and returns once it is written.
    public func stop() {
        lock.lock()
        running = false
        lock.unlock()
        finished.wait()
    }

    /// One drawing: on a terminal it returns to the line's start and ends the line only when
    /// final; in a log every drawing is a line of its own.
    public static func line(_ p: Progress, total: Int, seconds: Double, tty: Bool, final: Bool) -> String {
        let n = p.done + p.failed
        let width = 30
        let filled = total > 0 ? min(width, n * width / total) : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var line = String(format: "%@[%@] %d/%d requests  %.1f s  %.0f tok/s", tty ? "\r" : "", bar, n, total, seconds,
                          Double(p.tokens) / max(seconds, 1e-9))
        if p.failed > 0 { line += "  \(p.failed) failed" }
        return line + (final || !tty ? "\n" : "")
    }
}
