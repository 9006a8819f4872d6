import Foundation
import Testing

/// A real `ringside serve` process on a free loopback port, and the Python checks that drive
/// it through the `openai` client.
final class ServeProcess {
    /// The product is built next to the test bundle (.build/<triple>/release/).
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("ringside").path
    static let checks = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/openai_checks.py").path

    let process = Process()
    let log: String
    private(set) var base = ""

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts the server and waits until it names the port it listens on.
    init(_ args: [String], environment: [String: String] = [:]) throws {
        log = NSTemporaryDirectory() + "ringside-serve-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        // A file, not a pipe: nothing has to drain it while the server runs.
        let handle = FileHandle(forWritingAtPath: log)!
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--port", "0"] + args
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = output
            if let r = text.range(of: "listening on http://") {
                let rest = text[r.upperBound...]
                let address = rest.prefix { !$0.isWhitespace }
                base = "http://" + address
                return
            }
            if !process.isRunning { throw Failure(description: "ringside serve exited: \(text)") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw Failure(description: "ringside serve did not start within 60 s: \(output)")
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// SIGTERM, then SIGKILL if it is still running after `seconds`. Returns the exit status.
    @discardableResult
    func stop(within seconds: Double = 30) -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { stop(within: 5) }
        try? FileManager.default.removeItem(atPath: log)
    }

    /// Runs checks of openai_checks.py against this server; returns their output, and fails
    /// the test with it when one fails.
    @discardableResult
    func check(_ names: [String], environment: [String: String] = [:],
               sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let p = Process()
        let out = NSTemporaryDirectory() + "ringside-checks-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: out, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let handle = FileHandle(forWritingAtPath: out)!
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.checks, base] + names
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        p.environment = env
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 0, "checks \(names) failed:\n\(text)\n--- server log (tail) ---\n\(output.suffix(3000))",
                sourceLocation: sourceLocation)
        return text
    }
}
