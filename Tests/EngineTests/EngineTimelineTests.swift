@testable import Engine
import Foundation
import Profiler
import Testing

/// The engine's own timeline, read the way `bench` and the cockpit read it.
@Suite("engine timeline", .serialized)
struct EngineTimelineTests {
    @Test func aRealRunGivesConsistentViewsAndAPerfettoTrace() async throws {
        let engine = try EngineFixtures.engine(model: LoadedModel(path: TestModels.smolPath.get()))
        defer { engine.shutdown() }
        let collector = EventCollector(engine.recorder, interval: 0.01)
        let system = EngineFixtures.fillerPrompt(48, seed: 3)
        let results = try await withThrowingTaskGroup(of: Collected.self) { group in
            for i in 0 ..< 4 {
                group.addTask { try await collect(engine.submit(EngineFixtures.greedy(system + [Int32(400 + i)], max: 6))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let events = collector.stop()
        let spans = Spans.pair(events)
        let device = Spans.batches(spans, lane: .device)

        // Every token came out of a device batch: each sequence of a batch samples one token
        // (prompts are short enough that no prefill is chunked, and max_tokens is known, so
        // nothing is computed past the end).
        let generated = results.map(\.ids.count).reduce(0, +)
        #expect(generated == 24)
        #expect(Totals(events).counters[.generatedTokens] == Int64(generated))
        #expect(device.map(\.sequences).reduce(0, +) == generated)
        #expect(device.contains { $0.kind == .decode })
        // Device batches never overlap one another, and gaps are what lies between them.
        #expect(zip(device, device.dropFirst()).allSatisfy { $0.end <= $1.start })
        #expect(GapStats(spans: spans).gaps.count == device.count - 1)
        // Radix counters: 4 requests looked up, the last three found the shared 48 tokens.
        let totals = Totals(events)
        #expect(totals.counters[.radixQueryTokens] == Int64(4 * 49))
        #expect(totals.counters[.radixHitTokens] == Int64(3 * 48))
        #expect((totals.peaks[.kvPagesUsed] ?? 0) > 0)
        let ratio = try #require(Overlap.ratio(spans: spans))
        #expect(ratio >= 0 && ratio <= 1)

        let json = ChromeTrace.json(events)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let all = try #require(obj["traceEvents"] as? [[String: Any]])
        let complete = all.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == spans.count)
        #expect(complete.filter { $0["cat"] as? String == "batch" }.count == device.count)
        #expect(all.contains { $0["ph"] as? String == "C" && $0["name"] as? String == "kv_pages_used" })
        for tid in Set(complete.compactMap { $0["tid"] as? Int }) {
            let ts = complete.filter { $0["tid"] as? Int == tid }.compactMap { ($0["ts"] as? NSNumber)?.doubleValue }
            #expect(ts == ts.sorted(), "track \(tid) is in time order")
        }
    }
}
