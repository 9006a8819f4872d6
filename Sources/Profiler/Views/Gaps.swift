/// Device idle time between the end of one device batch and the start of the next: what the
/// overlap scheduler exists to shrink.
public struct Gap: Sendable, Equatable {
    public var micros: Double
    public var from: SpanKind
    public var to: SpanKind
    /// When the idle time began (monotonic ns).
    public var at: UInt64
}

public struct GapStats: Sendable, Equatable {
    public var gaps: [Gap]

    public init(_ events: [Event]) {
        self.init(spans: Spans.pair(events))
    }

    public init(spans: [Span]) {
        let device = Spans.batches(spans, lane: .device)
        gaps = zip(device, device.dropFirst()).map { a, b in
            Gap(micros: Double(Int64(bitPattern: b.start &- a.end)) / 1000, from: a.kind, to: b.kind, at: a.end)
        }
    }

    public func percentile(_ p: Double) -> Double? { Percentile.of(gaps.map(\.micros), p) }

    /// Gaps where a batch that prefilled is followed by a pure decode batch: the moment a new
    /// request joins the running batch.
    public var prefillToDecode: [Double] {
        gaps.filter { ($0.from == .prefill || $0.from == .mixed) && $0.to == .decode }.map(\.micros)
    }
}
