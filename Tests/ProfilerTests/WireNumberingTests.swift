import Testing
import Profiler

/// `/v1/events` sends span kinds and metrics as their raw values, and a cockpit attached to a
/// server of another build decodes them with its own enums: a kind added in the middle would
/// rename every later one on the wire. These are the numbers clients of earlier builds know.
@Suite("event wire numbering")
struct WireNumberingTests {
    @Test func metricsKeepTheirNumbers() {
        let expected: [(Metric, UInt16)] = [
            (.radixQueryTokens, 0), (.radixHitTokens, 1), (.radixEvictedTokens, 2), (.radixInsertedTokens, 3),
            (.promptTokens, 4), (.generatedTokens, 5), (.finishedRequests, 6), (.retractedRequests, 7),
            (.expertTokens, 8), (.runningRequests, 9), (.queuedRequests, 10), (.kvPagesUsed, 11),
            (.kvPagesTotal, 12), (.radixNodes, 13), (.radixCachedPages, 14),
            (.specVerifies, 15), (.specDraftTokens, 16), (.specAcceptedTokens, 17),
        ]
        for (m, n) in expected { #expect(m.rawValue == n, "\(m)") }
        #expect(Metric.allCases.count == expected.count, "a new metric goes last and is added here")
    }

    @Test func gaugesAreTheSixLevels() {
        let gauges = Metric.allCases.filter(\.isGauge)
        #expect(gauges == [.runningRequests, .queuedRequests, .kvPagesUsed, .kvPagesTotal, .radixNodes, .radixCachedPages])
    }

    @Test func spanKindsKeepTheirNumbers() {
        let expected: [SpanKind] = [.prefill, .decode, .mixed, .idle, .schedule, .launch, .collect, .forward, .sample, .draft, .verify]
        #expect(SpanKind.allCases == expected)
        for (i, k) in expected.enumerated() { #expect(Int(k.rawValue) == i, "\(k)") }
    }
}
