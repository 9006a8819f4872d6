import Foundation
import Testing
@testable import Profiler

/// A hand-made run, times in microseconds. Device batches and their gaps:
///   #1 prefill [20,120]  30  #2 decode [150,250]  10  #3 decode [260,360]  40
///   #4 mixed [400,500]  30  #5 decode [530,600]
/// Host phases overlap the device for 20 + 20 + 10 us of its 470 busy us.
enum Synthetic {
    static func span(_ lane: Lane, _ kind: SpanKind, _ batch: UInt32, _ from: UInt64, _ to: UInt64, tokens: Int64 = 1) -> [Event] {
        [Event(time: from * 1000, kind: .begin, lane: lane, span: kind, batch: batch, value: tokens, a: 1),
         Event(time: to * 1000, kind: .end, lane: lane, span: kind, batch: batch, value: tokens, a: 1)]
    }

    static var run: [Event] {
        var e: [Event] = []
        e += span(.host, .schedule, 1, 0, 10) + span(.host, .launch, 1, 10, 12)
        e += span(.device, .prefill, 1, 20, 120, tokens: 64) + span(.device, .forward, 1, 21, 110)
        e += span(.host, .schedule, 2, 100, 140) + span(.host, .collect, 1, 125, 135)
        e += span(.device, .decode, 2, 150, 250)
        e += span(.host, .schedule, 3, 200, 220) + span(.host, .collect, 2, 210, 215) + span(.host, .launch, 3, 220, 230)
        e += span(.device, .decode, 3, 260, 360)
        e += span(.device, .mixed, 4, 400, 500)
        e += span(.device, .decode, 5, 530, 600)
        return e.sorted { $0.time < $1.time }
    }
}

@Suite("profiler views")
struct ViewsTests {
    @Test func percentilesInterpolateLikeNumpy() {
        #expect(Percentile.of([10, 30, 30, 40], 50) == 30)
        #expect(abs(Percentile.of([10, 30, 30, 40], 99)! - 39.7) < 1e-9)
        #expect(Percentile.of([1, 2, 3, 4], 50) == 2.5)
        #expect(Percentile.of([7], 99) == 7)
        #expect(Percentile.of([], 50) == nil)
    }

    @Test func gapsBetweenDeviceBatches() {
        let g = GapStats(Synthetic.run)
        #expect(g.gaps.map(\.micros) == [30, 10, 40, 30])
        #expect(g.gaps.map(\.from) == [.prefill, .decode, .decode, .mixed])
        #expect(g.percentile(50) == 30)
        #expect(abs(g.percentile(99)! - 39.7) < 1e-9)
        #expect(g.prefillToDecode == [30, 30])
    }

    @Test func overlapCountsHostTimeOverDeviceBusyTimeOnce() {
        let r = Overlap.ratio(Synthetic.run)!
        #expect(abs(r - 50.0 / 470.0) < 1e-12)
        // Host and device taking turns: no overlap at all.
        let turns = Synthetic.span(.device, .decode, 1, 0, 10) + Synthetic.span(.host, .collect, 1, 10, 20)
            + Synthetic.span(.device, .decode, 2, 20, 30)
        #expect(Overlap.ratio(turns) == 0)
        #expect(Overlap.ratio([]) == nil)
    }

    @Test func timelineKeepsTheLastBatchesPerLane() {
        let t = Spans.timeline(Synthetic.run, lastBatches: 2)
        #expect(t[.device]!.map(\.batch) == [4, 5])
        #expect(Set(t[.host]!.map(\.batch)) == [2, 3])
        #expect(t[.device]!.first?.kind == .mixed)
    }

    @Test func radixHitRateAndThroughputPerWindow() {
        let ms: UInt64 = 1_000_000
        let events = [
            Event(time: 5_000, kind: .counter, lane: .host, metric: .radixQueryTokens, value: 100),
            Event(time: 5_000, kind: .counter, lane: .host, metric: .radixHitTokens, value: 50),
            Event(time: 100_000, kind: .counter, lane: .host, metric: .generatedTokens, value: 10),
            Event(time: 900_000, kind: .counter, lane: .host, metric: .generatedTokens, value: 20),
            Event(time: 1_100_000, kind: .counter, lane: .host, metric: .generatedTokens, value: 5),
            Event(time: 1_500_000, kind: .counter, lane: .host, metric: .radixQueryTokens, value: 200),
            Event(time: 1_500_000, kind: .counter, lane: .host, metric: .radixHitTokens, value: 200),
            Event(time: 9 * ms, kind: .counter, lane: .host, metric: .generatedTokens, value: 99),  // outside
        ]
        let w = WindowSeries(events, origin: 0, end: 3 * ms, width: ms)
        #expect(w.radixHitRate == [0.5, 1.0, nil])
        #expect(w.outputThroughput == [30_000, 5_000, 0])
        let totals = Totals(events)
        #expect(totals.radixHitRate == 250.0 / 300.0)
        #expect(totals.counters[.generatedTokens] == 134)
    }

    @Test func gaugesKeepLatestAndPeak() {
        let events = [5, 9, 3].enumerated().map { Event(time: UInt64($0.offset), kind: .gauge, lane: .host, metric: .kvPagesUsed, value: Int64($0.element)) }
        let t = Totals(events)
        #expect(t.gauges[.kvPagesUsed] == 3)
        #expect(t.peaks[.kvPagesUsed] == 9)
    }

    @Test func expertImbalanceIsMaxOverMean() {
        func route(_ layer: Int32, _ expert: Int32, _ n: Int64) -> Event {
            Event(time: 0, kind: .counter, lane: .device, metric: .expertTokens, value: n, a: layer, b: expert)
        }
        var events = (0 ..< 4).map { route(0, Int32($0), 4) }
        events += [route(1, 0, 5), route(1, 0, 3), route(1, 9, 100)]  // expert 9 is out of range
        let load = ExpertLoad(events, layers: 3, experts: 4)
        #expect(load.counts == [[4, 4, 4, 4], [8, 0, 0, 0], [0, 0, 0, 0]])
        #expect(load.imbalance(layer: 0) == 1)
        #expect(load.imbalance(layer: 1) == 4)
        #expect(load.imbalance(layer: 2) == nil)
        #expect(load.hottest(2).map { [$0.layer, $0.expert] } == [[1, 0], [0, 0]])
    }
}

@Suite("chrome trace")
struct ChromeTraceTests {
    @Test func traceParsesNestsAndIsOrderedPerTrack() throws {
        var events = Synthetic.run
        events.append(Event(time: 150_000, kind: .gauge, lane: .host, metric: .kvPagesUsed, value: 12))
        events.append(Event(time: 160_000, kind: .gauge, lane: .host, metric: .runningRequests, value: 3))
        try TraceChecks.check(ChromeTrace.json(events, processName: "test \"run\""), expectBatches: 5)
    }

    @Test func emptyTraceIsStillValid() throws {
        let obj = try JSONSerialization.jsonObject(with: Data(ChromeTrace.json([]).utf8)) as? [String: Any]
        #expect((obj?["traceEvents"] as? [Any])?.isEmpty == true)
    }
}

/// What the trace-event format requires, and what Perfetto needs to draw our tracks.
enum TraceChecks {
    static func check(_ json: String, expectBatches: Int) throws {
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let all = try #require(obj["traceEvents"] as? [[String: Any]])
        var byTrack: [Int: [(ts: Double, end: Double)]] = [:]
        var batches = 0
        for e in all {
            let ph = try #require(e["ph"] as? String)
            #expect(e["pid"] is Int && e["tid"] is Int && e["name"] is String, "\(e)")
            switch ph {
            case "X":
                let ts = try #require((e["ts"] as? NSNumber)?.doubleValue)
                let dur = try #require((e["dur"] as? NSNumber)?.doubleValue)
                #expect(dur >= 0)
                byTrack[e["tid"] as! Int, default: []].append((ts, ts + dur))
                if e["cat"] as? String == "batch" { batches += 1 }
            case "C":
                #expect(e["ts"] is NSNumber && (e["args"] as? [String: Any])?["value"] is NSNumber)
            case "M":
                #expect(e["args"] is [String: Any])
            default:
                Issue.record("unexpected phase \(ph)")
            }
        }
        #expect(batches == expectBatches)
        for (_, spans) in byTrack {
            // Ordered by start, and every pair either disjoint or nested (a stack discipline).
            #expect(zip(spans, spans.dropFirst()).allSatisfy { $0.ts <= $1.ts })
            var stack: [Double] = []
            for s in spans {
                while let top = stack.last, top <= s.ts + 1e-9 { stack.removeLast() }
                if let top = stack.last { #expect(s.end <= top + 1e-9, "span crosses its parent") }
                stack.append(s.end)
            }
        }
    }
}
