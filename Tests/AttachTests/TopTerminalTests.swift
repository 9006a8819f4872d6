import Foundation
import Testing

/// `ringside top` in a real terminal (tmux) against a `ringside serve` that `bench` loads from
/// another process, and that is then killed.
@Suite("top in tmux", .serialized)
struct TopTerminalTests {
    static let binary = LoopbackServer.binary
    static let session = "top"
    static let tmuxSocket = "ringside-attach-tests-\(getpid())"

    /// tmux through Python's subprocess, output to a file: see TUITests' CockpitTerminalTests
    /// for why (inherited descriptors would keep the test runner waiting).
    @discardableResult
    static func tmux(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))",
                       "tmux", "-L", tmuxSocket] + args
        let out = NSTemporaryDirectory() + "ringside-tmux-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: out, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let handle = FileHandle(forWritingAtPath: out)!
        p.standardOutput = handle
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try handle.close()
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }

    static func waitFor(_ seconds: Double = 600, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var s = ""
        while Date() < deadline {
            s = try tmux(["capture-pane", "-p", "-t", session])
            if predicate(s) { return s }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return s
    }

    @Test func topUnderBenchLoadThenServerKilled() throws {
        let server = try LoopbackServer(["--model", "smollm2-135m-instruct", "--kv-cache-tokens", "4096"])
        try? Self.tmux(["kill-server"])
        defer {
            _ = try? Self.tmux(["send-keys", "-t", Self.session, "Enter"])
            _ = try? Self.tmux(["kill-server"])
        }
        try Self.tmux(["new-session", "-d", "-x", "160", "-y", "48", "-s", Self.session,
                       "\(Self.binary) top \(server.base); echo EXITED-$?; read -t 10 line"])
        let up = try Self.waitFor { $0.contains("Ringside at \(server.base)") && $0.contains("running") }
        #expect(up.contains("Ringside at"), "\(up)")
        #expect(!up.contains("you ›"), "top has no chat pane: \(up)")

        // bench from another process loads the server; top shows its batches and the queue.
        let bench = Process()
        bench.executableURL = URL(fileURLWithPath: Self.binary)
        bench.arguments = ["bench", "--url", server.base, "--model", "smollm2-135m-instruct", "--num-prompts", "12",
                           "--input-len", "64", "--output-len", "48", "--concurrency", "4"]
        let benchOut = NSTemporaryDirectory() + "ringside-bench-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: benchOut, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: benchOut) }
        let h = FileHandle(forWritingAtPath: benchOut)!
        bench.standardOutput = h
        bench.standardError = h
        bench.standardInput = FileHandle.nullDevice
        try bench.run()
        let busy = try Self.waitFor { s in
            let running = s.range(of: #"[1-9] running"#, options: .regularExpression) != nil
            return running && s.contains("decode") && s.contains("device")
        }
        #expect(busy.range(of: #"[1-9] running"#, options: .regularExpression) != nil, "\(busy)")
        #expect(busy.contains("decode"), "the server's own batches in the timeline: \(busy)")
        bench.waitUntilExit()
        try h.close()
        let report = (try? String(contentsOfFile: benchOut, encoding: .utf8)) ?? ""
        #expect(bench.terminationStatus == 0, "\(report)")
        // bench --url read the server's /metrics before and after.
        #expect(report.contains("Server (from /metrics)") && report.contains("Ringside"), "\(report)")
        #expect(report.contains("Server prompt / generated tokens"), "\(report)")

        // The server dies mid-watch: top says so and keeps retrying; it does not crash or hang.
        server.kill9()
        let down = try Self.waitFor(60) { $0.contains("retry in") }
        #expect(down.contains("unreachable") && down.contains("retry in"), "\(down)")
        try Self.tmux(["send-keys", "-t", Self.session, "C-q"])
        let exited = try Self.waitFor(60) { $0.contains("EXITED-") }
        #expect(exited.contains("EXITED-0"), "\(exited)")
    }
}
