import Foundation

/// One tmux session on a server of its own (suites run side by side, and each kills its
/// server first), driven as a person would drive a terminal.
struct Tmux: Sendable {
    let socket: String
    let session: String

    @discardableResult
    func callAsFunction(_ args: [String]) throws -> String {
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

    func screen() throws -> String { try self(["capture-pane", "-p", "-t", session]) }

    /// Polls the pane until `predicate` holds; returns the last capture. There is no deadline
    /// a busy machine could miss (a build beside the tests slows the cockpit many times over):
    /// the bound is only there so that a real hang fails instead of blocking the suite.
    func waitFor(_ seconds: Double = 600, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var s = ""
        while Date() < deadline {
            s = try screen()
            if predicate(s) { return s }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return s
    }
}
