import Foundation
import Testing

/// `ringside serve --cockpit` in a real terminal (tmux), with HTTP requests from another process.
@Suite("serve --cockpit in tmux", .serialized)
struct ServeCockpitTerminalTests {
    static let binary = CockpitTerminalTests.binary
    static let session = "serve-cockpit"

    /// A tmux server of its own: suites run side by side, and each kills its server first.
    static let tmuxSocket = "ringside-serve-cockpit-\(getpid())"

    static let tmux = Tmux(socket: tmuxSocket, session: session)

    static func screen() throws -> String { try tmux.screen() }

    static func waitFor(_ seconds: Double = 600, _ predicate: (String) -> Bool) throws -> String {
        try tmux.waitFor(seconds, predicate)
    }

    /// A loopback port nobody listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Runs a command to completion with its output in a file (never a pipe; see `tmux`).
    @discardableResult
    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = NSTemporaryDirectory() + "ringside-attach-run-\(UUID().uuidString).txt"
        FileManager.default.createFile(atPath: out, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let h = FileHandle(forWritingAtPath: out)!
        p.standardOutput = h
        p.standardError = h
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try h.close()
        return (p.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    @Test func serveCockpitShowsHTTPRequestsAndStillChats() throws {
        try? Self.tmux(["kill-server"])
        defer {
            _ = try? Self.tmux(["send-keys", "-t", Self.session, "Enter"])
            _ = try? Self.tmux(["kill-server"])
        }
        let port = Self.freePort()
        let log = NSTemporaryDirectory() + "ringside-serve-cockpit-\(port).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let cmd = "\(Self.binary) serve --cockpit --port \(port) --model smollm2-135m-instruct --kv-cache-tokens 2048 --log-file \(log); echo EXITED-$?; read -t 10 line"
        _ = try Self.tmux(["new-session", "-d", "-x", "160", "-y", "48", "-s", Self.session, cmd])
        let up = try Self.waitFor { $0.contains("serving http://127.0.0.1:\(port)") }
        #expect(up.contains("serving http://127.0.0.1:\(port)") && up.contains("0 done"), "\(up)")

        // A request from another process, through HTTP: it shows in the panes as it is served.
        let (status, body) = try Self.run(["python3", "-c", """
            import json, urllib.request
            r = urllib.request.Request('http://127.0.0.1:\(port)/v1/chat/completions', method='POST',
                data=json.dumps({'model': 'smollm2-135m-instruct', 'max_tokens': 24, 'temperature': 0,
                                 'messages': [{'role': 'user', 'content': 'Name a colour.'}]}).encode(),
                headers={'Content-Type': 'application/json'})
            print(json.load(urllib.request.urlopen(r, timeout=300))['usage']['completion_tokens'])
            """])
        #expect(status == 0, "\(body)")
        let served = try Self.waitFor { $0.contains("1 done") && $0.contains("decode") && $0.contains("prefill") }
        #expect(served.contains("1 done"), "\(served)")
        #expect(served.contains("device") && served.contains("decode"), "the HTTP request's batches: \(served)")
        #expect((try? String(contentsOfFile: log, encoding: .utf8))?.contains("POST /v1/chat/completions 200") == true,
                "the request log went to --log-file")

        // The chat pane shares the serving engine.
        _ = try Self.tmux(["send-keys", "-t", Self.session, "What is the capital of France?", "Enter"])
        let answered = try Self.waitFor { $0.contains("Paris") && $0.contains("t/s") }
        #expect(answered.contains("The capital of France is Paris."), "\(answered)")

        // Quitting the cockpit stops the server cleanly.
        _ = try Self.tmux(["send-keys", "-t", Self.session, "C-q"])
        let exited = try Self.waitFor(120) { $0.contains("EXITED-") }
        #expect(exited.contains("EXITED-0"), "\(exited)")
        #expect(!exited.contains("ringside ·"), "the terminal is restored: \(exited)")
    }
}
