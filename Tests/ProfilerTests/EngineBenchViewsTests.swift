import Testing
@testable import Profiler

/// engine-bench's figures on hand-made runs (see `Synthetic` for the layout of `run`).
@Suite("engine-bench views")
struct EngineBenchViewsTests {
    @Test func spanStatsCountAndAverageEachLaneAndKind() {
        let stats = SpanStats(Synthetic.run)
        // host schedule: 10, 40 and 20 us; device decode: 100, 100 and 70 us.
        #expect(stats[.host, .schedule]?.count == 3)
        #expect(abs(stats[.host, .schedule]!.meanMs - 70.0 / 3 / 1000) < 1e-12)
        #expect(stats[.device, .decode]?.durations == [0.1, 0.1, 0.07])
        #expect(stats.entries.map(\.label) == stats.entries.map(\.label).sorted())
        #expect(stats.lines.contains("  device decode: 3 spans, mean 0.090 ms"))
        #expect(stats.lines.contains("  device prefill: 1 spans, mean 0.100 ms"))
        #expect(stats.lines.count == Set(Synthetic.run.map { "\($0.lane) \($0.span)" }).count)
    }

    @Test func spanStatsDropEndsWithoutBegins() {
        let events = Array(Synthetic.span(.device, .decode, 1, 0, 50).dropFirst()) + Synthetic.span(.device, .decode, 2, 60, 80)
        #expect(SpanStats(events)[.device, .decode]?.durations == [0.02])
    }

    @Test func decodeRateCountsDecodeBatchesWithTheGapBeforeThem() {
        func batch(_ kind: SpanKind, _ id: UInt32, _ from: UInt64, _ to: UInt64, sequences: Int32) -> [Event] {
            Synthetic.span(.device, kind, id, from, to).map { var e = $0; e.a = sequences; return e }
        }
        // prefill [0,100]; decode of 4 [130,230] (130 us with the gap); decode of 4 [240,300] (70);
        // mixed [310,400]; decode of 2 [450,500] (100, from the mixed batch's end); a forward phase inside is ignored.
        var events = batch(.prefill, 1, 0, 100, sequences: 4) + batch(.decode, 2, 130, 230, sequences: 4)
        events += batch(.decode, 3, 240, 300, sequences: 4) + batch(.mixed, 4, 310, 400, sequences: 5)
        events += batch(.decode, 5, 450, 500, sequences: 2) + Synthetic.span(.device, .forward, 5, 455, 495)
        events += Synthetic.span(.host, .decode, 9, 0, 1000)
        let rate = DecodeRate(events.sorted { $0.time < $1.time })
        #expect(rate.tokens == 10)
        #expect(abs(rate.seconds - 300e-6) < 1e-12)
        #expect(abs(rate.tokensPerSecond - 10 / 300e-6) < 1e-6)
        #expect(DecodeRate([]).tokensPerSecond == 0)
    }
}
