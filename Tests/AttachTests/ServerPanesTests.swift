import Foundation
import Remote
import Testing
@testable import TUI

/// What the panes draw from other servers' figures, read from the real-source fixtures of
/// RemoteTests (Tests/RemoteTests/Fixtures/SOURCES.md).
@Suite("attach: server panes")
struct ServerPanesTests {
    static func fixture(_ name: String) throws -> String {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: dir.appendingPathComponent("RemoteTests/Fixtures/" + name), encoding: .utf8)
    }

    static func screen(_ view: ServerView) -> String {
        var frame = CockpitFrame(chat: ChatState(modelName: "m"), shape: ExpertShape(modelName: "m", layers: 0, experts: 0))
        frame.shown = [.timeline, .cache, .experts]
        frame.server = view
        frame.now = 1
        let (buf, _) = Cockpit.render(frame, width: 160, height: 48, theme: .builtInDefault)
        return buf.lines.joined(separator: "\n")
    }

    @Test func sglangExpertLoadPerEPRank() throws {
        let f = ServerFigures(MetricsScrape(text: try Self.fixture("sglang-metrics.txt") + Self.fixture("sglang-eplb-metrics.txt")),
                              kind: .sglang)
        var v = ServerView(kind: "SGLang", expertNote: ServerKind.sglang.expertNote)
        v.expertCounts = f.expertCounts
        v.expertColumns = f.expertColumns.rawValue
        v.balancedness = f.balancedness
        let s = Self.screen(v)
        #expect(s.contains("3 layers × 4 EP ranks"), "\(s)")
        #expect(s.contains("balancedness 0.52"), "\(s)")
        // Rank 2 of layer 2 took 57 of layer 2's 64 tokens: the hottest cell.
        #expect(s.contains("L2/R2"), "\(s)")
        #expect(!s.contains("L2/E2"), "ranks are not experts")

        // Without the metrics: the one note, saying how to get them.
        let plain = Self.screen(ServerView(kind: "SGLang", expertNote: ServerKind.sglang.expertNote))
        #expect(plain.contains("SGLang shows expert load"), "\(plain)")
    }

    @Test func sglangJAXSchedulerFromServerInfo() throws {
        let info = try #require(SGLangServerInfo(text: try Self.fixture("sglang-jax-server-info.json")))
        let f = ServerFigures(info: info)
        var v = ServerView(kind: ServerKind.sglangJAX.description, expertNote: ServerKind.sglangJAX.expertNote)
        v.running = f.running
        v.queued = f.queued
        v.throughput = f.throughput
        v.tokenUsage = f.tokenUsage
        let s = Self.screen(v)
        #expect(s.contains("server: 3 running · 2 queued · 812.4 tok/s"), "\(s)")
        #expect(s.contains("KV in use") && s.contains("25%"), "\(s)")
        #expect(s.contains("SGLang-JAX exposes no expert load"), "\(s)")
    }
}
