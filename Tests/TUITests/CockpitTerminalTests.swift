import Foundation
import Testing

/// The real binary in a real terminal (tmux), as a person would use it.
@Suite("cockpit in tmux", .serialized)
struct CockpitTerminalTests {
    /// The product is built next to the test bundle (.build/<triple>/release/).
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("ringside").path

    /// A server of our own per run: a server still shutting down from an earlier run would
    /// swallow the new session.
    static let socket = "ringside-tests-\(getpid())"

    @discardableResult
    static func tmux(_ args: [String]) throws -> String {
        let p = Process()
        // Through Python's subprocess, which passes only stdin/out/err on: the tmux server would
        // otherwise inherit the test runner's other descriptors (its output pipe among them)
        // and keep `swift test` waiting for an EOF that never comes.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))",
                       "tmux", "-L", socket] + args
        // Output goes to a file, never a pipe: tmux hands a client's descriptors to its server,
        // which can hold a pipe open long after the client exits (a read to EOF then hangs).
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

    /// Polls the pane until `predicate` holds; returns the last capture. There is no deadline
    /// a busy machine could miss (a build beside the tests slows the cockpit many times over):
    /// the bound is only there so that a real hang fails instead of blocking the suite.
    static func waitFor(_ predicate: (String) -> Bool) throws -> String {
        let hang = Date().addingTimeInterval(600)
        var screen = ""
        while Date() < hang {
            screen = try tmux(["capture-pane", "-p", "-t", "cockpit"])
            if predicate(screen) { return screen }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return screen
    }

    @Test func chatAnswersAndQuitsCleanly() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the ringside product first (make test does)")
        try? Self.tmux(["kill-server"])
        defer {
            // The pane's shell may have SIGHUP ignored (inherited), so end its `read` by hand.
            _ = try? Self.tmux(["send-keys", "-t", "cockpit", "Enter"])
            _ = try? Self.tmux(["kill-server"])
        }
        try Self.tmux(["new-session", "-d", "-x", "100", "-y", "30", "-s", "cockpit", Self.binary + " chat; echo EXITED-$?; read -t 10 line"])
        let ready = try Self.waitFor { $0.contains("· ready") }
        #expect(ready.contains("ringside ·") && ready.contains("theme default"), "\(ready)")
        try Self.tmux(["send-keys", "-t", "cockpit", "What is the capital of France?", "Enter"])
        let answered = try Self.waitFor { $0.contains("Paris") && $0.contains("t/s") && $0.contains("decode") }
        #expect(answered.contains("The capital of France is Paris."), "\(answered)")
        // The timeline shows the prefill and the decode batches that produced the answer.
        #expect(answered.contains("prefill") && answered.contains("decode") && answered.contains("device"), "\(answered)")

        try Self.tmux(["send-keys", "-t", "cockpit", "F2"])
        let themed = try Self.waitFor { $0.contains("theme ") && !$0.contains("theme default") }
        #expect(!themed.contains("theme default"), "F2 switches the theme: \(themed)")

        try Self.tmux(["resize-window", "-t", "cockpit", "-x", "30", "-y", "6"])
        let small = try Self.waitFor { $0.contains("too small") }
        #expect(small.contains("too small"), "\(small)")
        try Self.tmux(["resize-window", "-t", "cockpit", "-x", "160", "-y", "48"])
        let big = try Self.waitFor { $0.contains("· ready") && $0.contains("prefix cache") }
        #expect(big.contains("experts"), "all four panes at 160x48: \(big)")

        try Self.tmux(["send-keys", "-t", "cockpit", "C-q"])
        let exited = try Self.waitFor { $0.contains("EXITED-") }
        // The terminal is back: the shell's line is there, the cockpit's frame is gone.
        #expect(!exited.contains("ringside ·"), "\(exited)")
        #expect(exited.contains("EXITED-0"), "\(exited)")
    }
}
