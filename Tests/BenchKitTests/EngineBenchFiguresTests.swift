import BenchKit
import Profiler
import Testing

@Suite("engine-bench figures")
struct EngineBenchFiguresTests {
    /// A device batch of `sequences` sequences from `from` to `to` microseconds.
    static func batch(_ kind: SpanKind, _ id: UInt32, _ from: UInt64, _ to: UInt64, sequences: Int32) -> [Event] {
        [Event(time: from * 1000, kind: .begin, lane: .device, span: kind, batch: id, value: Int64(sequences), a: sequences),
         Event(time: to * 1000, kind: .end, lane: .device, span: kind, batch: id, value: Int64(sequences), a: sequences)]
    }

    /// Two requests: prefill [0,1000], then decodes of 2 sequences of 800 us with 200 us gaps.
    static var run: [Event] {
        var e = batch(.prefill, 1, 0, 1000, sequences: 2)
        for i in 0 ..< 4 { e += batch(.decode, UInt32(2 + i), 1200 + UInt64(i) * 1000, 2000 + UInt64(i) * 1000, sequences: 2) }
        e.append(Event(time: 4_000_000, kind: .counter, lane: .host, metric: .retractedRequests, value: 1))
        return e
    }

    @Test func linesReportTheRunsFigures() {
        let f = EngineBenchFigures(events: Self.run, concurrency: 2, outputLen: 5, wall: 0.01, overlap: true, recorded: true, recordNs: 32)
        // 8 decode tokens in 4 x 1000 us (each 800 us batch and the 200 us gap before it).
        #expect(f.decode.tokens == 8 && abs(f.decode.tokensPerSecond - 2000) < 1e-6)
        #expect(f.endToEndTokensPerSecond == 1000)
        #expect(f.lines == [
            "  retracted: 1",
            "  device decode: 4 spans, mean 0.800 ms",
            "  device prefill: 1 spans, mean 1.000 ms",
            // 11 events over 4 steps, 32 ns each, against a 0.8 ms step.
            "  recorder: 2.8 events per decode step x 32.0 ns = 0.0110 % of a 0.80 ms step",
            "concurrency  2: 2000.0 decode t/s aggregate (1000.0 t/s end to end, 0.01 s)  gap p50 200 us p99 200 us prefill->decode 200 us  (overlap on)",
        ])
    }

    @Test func withoutRecordingThereIsNoCostLineAndNoGaps() {
        let f = EngineBenchFigures(events: [], concurrency: 1, outputLen: 4, wall: 2, overlap: false, recorded: false, recordNs: 40)
        #expect(f.lines == ["  retracted: 0",
                            "concurrency  1:    0.0 decode t/s aggregate (2.0 t/s end to end, 2.00 s)  gap p50 - p99 - prefill->decode -  (overlap off)"])
    }
}
