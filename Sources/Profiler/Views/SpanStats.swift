import Foundation

/// How many spans of each lane and kind a run had and how long they took: engine-bench's
/// per-phase table ("device decode: 512 spans, mean 9.871 ms").
public struct SpanStats: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var lane: Lane
        public var kind: SpanKind
        /// Milliseconds, in the order the spans ended.
        public var durations: [Double]

        public var count: Int { durations.count }
        public var meanMs: Double { durations.isEmpty ? 0 : durations.reduce(0, +) / Double(durations.count) }
        /// "device decode", as the table labels it.
        public var label: String { "\(lane) \(kind)" }
    }

    /// Sorted by label.
    public var entries: [Entry]

    public init(_ events: [Event]) {
        self.init(spans: Spans.pair(events))
    }

    public init(spans: [Span]) {
        struct Key: Hashable { var lane: Lane; var kind: SpanKind }
        var byKey: [Key: [Double]] = [:]
        for s in spans { byKey[Key(lane: s.lane, kind: s.kind), default: []].append(Double(s.duration) / 1e6) }
        entries = byKey.map { Entry(lane: $0.key.lane, kind: $0.key.kind, durations: $0.value) }.sorted { $0.label < $1.label }
    }

    public subscript(lane: Lane, kind: SpanKind) -> Entry? {
        entries.first { $0.lane == lane && $0.kind == kind }
    }

    /// One line per lane and kind: "  device decode: 512 spans, mean 9.871 ms".
    public var lines: [String] {
        entries.map { "  \($0.label): \($0.count) spans, mean \(String(format: "%.3f", $0.meanMs)) ms" }
    }
}
