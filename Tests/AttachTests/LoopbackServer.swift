import Foundation

/// A real `ringside serve` on a free loopback port, for the attach tests.
final class LoopbackServer {
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("ringside").path

    let process = Process()
    let log: String
    private(set) var base = ""

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(_ args: [String]) throws {
        log = NSTemporaryDirectory() + "ringside-attach-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)!
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--port", "0"] + args
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let text = output
            if let r = text.range(of: "listening on http://") {
                base = "http://" + text[r.upperBound...].prefix { !$0.isWhitespace }
                return
            }
            if !process.isRunning { throw Failure(description: "ringside serve exited: \(text)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(process.processIdentifier, SIGKILL)
        throw Failure(description: "ringside serve did not start: \(output)")
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: log)
    }
}
