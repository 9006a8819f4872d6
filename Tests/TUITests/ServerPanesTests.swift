import Profiler
import Testing
@testable import TUI

/// The panes for a server whose own batches are not visible: what each says from a
/// `ServerView`, and the one line where the server exposes nothing.
@Suite("server panes")
struct ServerPanesTests {
    static func screen(_ v: ServerView, now: UInt64) -> String {
        var f = CockpitFrame(chat: ChatState(modelName: "Qwen/Qwen3-0.6B"), shape: ExpertShape(modelName: "m", layers: 0, experts: 0))
        f.server = v
        f.now = now
        f.status = "\(v.kind) at http://127.0.0.1:8000 · 3 running · 1 queued"
        let (buf, _) = Cockpit.render(f, width: 160, height: 48, theme: .builtInDefault)
        return buf.lines.joined(separator: "\n")
    }

    @Test func vllmFiguresAndThisCockpitsRequests() {
        let s: UInt64 = 1_000_000_000
        var v = ServerView(kind: "vLLM", expertNote: "vLLM exposes no expert load in /metrics")
        v.running = 3
        v.queued = 1
        v.ttft = 0.07
        v.itl = 0.02
        v.throughput = 250
        v.tokenUsage = 0.125
        v.cacheHitRate = 0.25
        v.overallCacheHitRate = 0.5
        v.hitRateSeries = [0.1, nil, 0.25]
        v.retractions = 2
        v.requests = [RequestLane(id: 1, sent: 100 * s, firstToken: 100 * s + s / 5, lastToken: 103 * s, tokens: 40, finished: true),
                      RequestLane(id: 2, sent: 104 * s)]
        let text = Self.screen(v, now: 105 * s)
        #expect(text.contains("vLLM at http://127.0.0.1:8000 · 3 running · 1 queued"))
        #expect(text.contains("requests · vLLM"))
        #expect(text.contains("server: 3 running · 1 queued · TTFT p50 70ms · ITL p50 20ms · 250.0 tok/s"), "\(text)")
        #expect(text.contains("#1") && text.contains("TTFT 200ms · 40 tok"), "\(text)")
        #expect(text.contains("#2") && text.contains("waiting"), "\(text)")
        #expect(text.contains("hit rate 25% last scrape · 50% overall"), "\(text)")
        #expect(text.contains("KV in use") && text.contains("13%"), "\(text)")
        #expect(text.contains("retracted or preempted 2"), "\(text)")
        #expect(text.contains("vLLM exposes no expert load in /metrics"), "\(text)")
    }

    @Test func nothingToShowSaysSoInOneLine() {
        let v = ServerView(kind: "llama.cpp", expertNote: "llama.cpp exposes no expert load")
        let text = Self.screen(v, now: 5_000_000_000)
        #expect(text.contains("llama.cpp reports no scheduler figures"))
        #expect(text.contains("no requests from this cockpit yet"))
        #expect(text.contains("llama.cpp reports no cache hit rate"))
        #expect(text.contains("— (llama.cpp does not report it)"))
        #expect(text.contains("llama.cpp exposes no expert load"))
    }
}
