/// Counters summed over fixed time windows: radix hit rate and throughput over time.
public struct WindowSeries: Sendable, Equatable {
    /// Start of the first window (monotonic ns) and the window length.
    public var origin: UInt64
    public var width: UInt64
    /// Per window, per metric: the sum of its counter increments.
    public var sums: [[Metric: Int64]]

    /// Windows of `width` ns covering `origin ..< end`; events outside are ignored.
    public init(_ events: [Event], origin: UInt64, end: UInt64, width: UInt64) {
        precondition(width > 0)
        self.origin = origin
        self.width = width
        let n = end > origin ? Int((end - origin + width - 1) / width) : 0
        sums = Array(repeating: [:], count: n)
        for e in events where e.kind == .counter && e.time >= origin && e.time < end {
            sums[Int((e.time - origin) / width)][e.metric, default: 0] += e.value
        }
    }

    /// Hit tokens over query tokens per window (nil where nothing was looked up).
    public var radixHitRate: [Double?] {
        sums.map { w in
            let q = w[.radixQueryTokens] ?? 0
            return q > 0 ? Double(w[.radixHitTokens] ?? 0) / Double(q) : nil
        }
    }

    /// Generated tokens per second in each window.
    public var outputThroughput: [Double] {
        sums.map { Double($0[.generatedTokens] ?? 0) / (Double(width) / 1e9) }
    }
}

/// Counter totals and the latest gauges over a stream of events.
public struct Totals: Sendable, Equatable {
    public var counters: [Metric: Int64] = [:]
    public var gauges: [Metric: Int64] = [:]
    /// Highest value each gauge reached.
    public var peaks: [Metric: Int64] = [:]

    public init() {}

    public init(_ events: [Event]) {
        add(events)
    }

    public mutating func add(_ events: [Event]) {
        for e in events {
            switch e.kind {
            case .counter: counters[e.metric, default: 0] += e.value
            case .gauge:
                gauges[e.metric] = e.value
                peaks[e.metric] = max(peaks[e.metric] ?? e.value, e.value)
            default: break
            }
        }
    }

    /// Prompt tokens found in the prefix cache over prompt tokens looked up.
    public var radixHitRate: Double? {
        let q = counters[.radixQueryTokens] ?? 0
        return q > 0 ? Double(counters[.radixHitTokens] ?? 0) / Double(q) : nil
    }

    /// Speculative decoding: tokens emitted per verification (accepted drafts plus the
    /// target's own token; SGLang's accept length), nil when nothing was verified.
    public var specAcceptLength: Double? {
        let v = counters[.specVerifies] ?? 0
        return v > 0 ? Double(v + (counters[.specAcceptedTokens] ?? 0)) / Double(v) : nil
    }

    /// Accepted drafts over drafts offered, nil when none were.
    public var specAcceptRate: Double? {
        let d = counters[.specDraftTokens] ?? 0
        return d > 0 ? Double(counters[.specAcceptedTokens] ?? 0) / Double(d) : nil
    }
}
