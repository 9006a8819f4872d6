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

    static let tmux = Tmux(socket: socket, session: "cockpit")

    static func waitFor(_ predicate: (String) -> Bool) throws -> String { try tmux.waitFor(600, predicate) }

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
