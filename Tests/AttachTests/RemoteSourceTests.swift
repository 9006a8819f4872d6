import Attach
import Engine
import Foundation
import Profiler
import Remote
import Testing
@testable import TUI

/// The cockpit's remote source against a real `ringside serve` on loopback: what it shows is
/// what the server's Profiler recorded, and the chat round-trips with reasoning apart.
@Suite("attach to ringside serve", .serialized)
struct RemoteSourceTests {
    /// Polls `body` until it returns a value, at most `seconds`.
    static func eventually<T>(_ seconds: Double = 120, _ body: () async throws -> T?) async throws -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let v = try await body() { return v }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test func sameEventsAsTheServersProfilerAndReasoningApart() async throws {
        let server = try LoopbackServer(["--model", "tiny-ring", "--kv-cache-tokens", "4096"])
        let source = try RemoteSource(url: server.base, apiKey: nil, kind: nil, chat: true, model: nil)
        defer { source.close() }
        // The model name comes from /v1/models and the MoE shape from the events header: wait for both.
        let connected = try await Self.eventually { source.status?.contains("Ringside at") == true && source.modelName == "tiny-ring" && source.shape.experts > 0 ? true : nil }
        #expect(connected == true, "\(source.status ?? "")")
        #expect(source.shape.experts > 0 && source.shape.layers > 0, "the header names the MoE shape")
        #expect(source.server == nil, "a Ringside server's panes read its events")

        var text = "", reasoning = ""
        var usage: Usage?
        for try await e in source.chat([ChatMessage(role: "user", content: "What is 12 + 34?")], params: SamplingParams(temperature: 0, maxTokens: 200)) {
            switch e {
            case let .delta(t, r, _, _):
                #expect(t.isEmpty || r.isEmpty)
                text += t
                reasoning += r
            case let .finished(_, u, _): usage = u
            }
        }
        #expect(text == "The answer is 46.")
        #expect(reasoning.contains("46") && !reasoning.contains("</think>"), "\(reasoning)")
        let u = try #require(usage)

        // The server's Profiler as /metrics reports it (its own drain of the same recorder)...
        let client = try RemoteClient(url: server.base)
        defer { Task { await client.shutdown() } }
        var events: [Event] = []
        struct Cell: Hashable { var layer: Int; var expert: Int }
        let settled = try await Self.eventually { () async throws -> (MetricsScrape, [Cell: Int64])? in
            events += source.poll()
            let scrape = try await client.metrics()
            var served: [Cell: Int64] = [:]
            for (l, row) in (ServerFigures(scrape, kind: .ringside).expertCounts ?? []).enumerated() {
                for (x, c) in row.enumerated() where c > 0 { served[Cell(layer: l, expert: x)] = c }
            }
            var seen: [Cell: Int64] = [:]
            for e in events where e.kind == .counter && e.metric == .expertTokens {
                seen[Cell(layer: Int(e.a), expert: Int(e.b)), default: 0] += e.value
            }
            let generated = events.filter { $0.kind == .counter && $0.metric == .generatedTokens }.reduce(Int64(0)) { $0 + $1.value }
            guard generated >= Int64(u.completionTokens), !served.isEmpty, served == seen.filter({ $0.value > 0 }) else { return nil }
            return (scrape, served)
        }
        let (scrape, counts) = try #require(settled, "the attached events never matched the server's expert counters")
        // ...and the events the cockpit received: the same expert counts, and the batches that
        // generated the answer (one prefill, then a decode batch per token but the first).
        #expect(counts.values.reduce(0, +) > 0)
        let spans = Spans.pair(events)
        let device = Spans.batches(spans, lane: .device)
        #expect(device.contains { $0.kind == .prefill })
        #expect(device.filter { $0.kind == .decode }.count >= u.completionTokens - 1)
        #expect(scrape.sum("ringside:generation_tokens_total") == Double(u.completionTokens))
        // The cockpit draws them: batch labels in the timeline at the server's times.
        var frame = CockpitFrame(chat: ChatState(modelName: source.modelName), shape: source.shape)
        frame.events = events
        frame.now = (device.last?.end ?? 0) + 1_000_000
        frame.status = source.status
        let (buf, _) = Cockpit.render(frame, width: 160, height: 48, theme: .builtInDefault)
        let screen = buf.lines.joined(separator: "\n")
        #expect(screen.contains("#\(device.last!.batch)"), "\(screen)")
        #expect(screen.contains("Ringside at http://127.0.0.1"), "\(screen)")
        #expect(screen.contains("routings"), "\(screen)")
    }

    @Test func serverGoneIsAStatusAndARetry() async throws {
        let server = try LoopbackServer(["--model", "smollm2-135m-instruct", "--kv-cache-tokens", "1024"])
        let source = try RemoteSource(url: server.base, apiKey: nil, kind: nil, chat: false, model: nil)
        defer { source.close() }
        let up = try await Self.eventually { source.status?.contains("running") == true ? true : nil }
        #expect(up == true, "\(source.status ?? "")")
        server.kill9()
        let down = try await Self.eventually(30) { source.status.flatMap { $0.contains("retry in") ? $0 : nil } }
        #expect(down?.contains("unreachable") == true, "\(down ?? source.status ?? "")")
        _ = source.poll()
    }

    @Test func wrongKeyIsAStatusNotACrash() async throws {
        let server = try LoopbackServer(["--model", "smollm2-135m-instruct", "--kv-cache-tokens", "1024", "--api-key", "right"])
        let source = try RemoteSource(url: server.base, apiKey: "wrong", kind: nil, chat: true, model: nil)
        defer { source.close() }
        // The words, not the bare number: the server's port may contain "401" too.
        let refused = try await Self.eventually(30) { source.status.flatMap { $0.contains("401 unauthorized") ? $0 : nil } }
        #expect(refused?.contains("retry in") == true, "\(refused ?? source.status ?? "")")
        let good = try RemoteSource(url: server.base, apiKey: "right", kind: nil, chat: true, model: nil)
        defer { good.close() }
        let ok = try await Self.eventually { good.status?.contains("running") == true ? true : nil }
        #expect(ok == true, "\(good.status ?? "")")
    }
}
