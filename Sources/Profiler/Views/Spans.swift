/// A finished span: a begin and an end of the same lane, kind and batch.
public struct Span: Sendable, Equatable {
    public var lane: Lane
    public var kind: SpanKind
    public var batch: UInt32
    public var start: UInt64
    public var end: UInt64
    /// Tokens and sequences the batch carried.
    public var tokens: Int
    public var sequences: Int

    public init(lane: Lane, kind: SpanKind, batch: UInt32, start: UInt64, end: UInt64, tokens: Int = 0, sequences: Int = 0) {
        self.lane = lane
        self.kind = kind
        self.batch = batch
        self.start = start
        self.end = end
        self.tokens = tokens
        self.sequences = sequences
    }

    public var duration: UInt64 { end &- start }
}

public enum Spans {
    /// Pairs begins with ends (same lane, kind and batch), in order of their ends. Unmatched
    /// ends (their begin fell out of the window) and still-open begins are dropped.
    public static func pair(_ events: [Event]) -> [Span] {
        struct Key: Hashable { var lane: Lane; var kind: SpanKind; var batch: UInt32 }
        var open: [Key: Event] = [:]
        var out: [Span] = []
        for e in events {
            let key = Key(lane: e.lane, kind: e.span, batch: e.batch)
            switch e.kind {
            case .begin: open[key] = e
            case .end:
                if let b = open.removeValue(forKey: key) {
                    out.append(Span(lane: e.lane, kind: e.span, batch: e.batch, start: b.time, end: e.time,
                                    tokens: Int(b.value), sequences: Int(b.a)))
                }
            default: break
            }
        }
        return out
    }

    /// Whole batches of one lane (not the phases inside them), in time order.
    public static func batches(_ spans: [Span], lane: Lane) -> [Span] {
        spans.filter { $0.lane == lane && $0.kind.isBatch }.sorted { $0.start < $1.start }
    }

    /// The last `n` batches of each lane, for a scrolling timeline.
    public static func timeline(_ events: [Event], lastBatches n: Int) -> [Lane: [Span]] {
        let spans = pair(events)
        var out: [Lane: [Span]] = [:]
        for lane in Lane.allCases {
            let own = spans.filter { $0.lane == lane }.sorted { $0.start < $1.start }
            // Host work is recorded as phases (schedule, launch, collect); the device's as batches.
            let batchIDs = Array(Set(own.map(\.batch))).sorted().suffix(n)
            let keep = Set(batchIDs)
            out[lane] = own.filter { keep.contains($0.batch) }
        }
        return out
    }
}
