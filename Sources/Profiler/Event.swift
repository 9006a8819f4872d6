/// Which thread an event comes from: the timeline's lanes.
public enum Lane: UInt8, Sendable, CaseIterable {
    case host, device
}

/// What a span is doing.
public enum SpanKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case prefill, decode, mixed, idle
    /// Host work: building a batch, handing it to the device, processing its results.
    case schedule, launch, collect
    /// Device work: the forward pass and sampling.
    case forward, sample
    /// Speculative decoding: drafting (host) and verifying drafts against the target's
    /// samples (device, in place of `sample`).
    case draft, verify

    /// A whole batch on its lane (as opposed to a phase inside one).
    public var isBatch: Bool {
        switch self {
        case .prefill, .decode, .mixed, .idle: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .prefill: "prefill"
        case .decode: "decode"
        case .mixed: "mixed"
        case .idle: "idle"
        case .schedule: "schedule"
        case .launch: "launch"
        case .collect: "collect"
        case .forward: "forward"
        case .sample: "sample"
        case .draft: "draft"
        case .verify: "verify"
        }
    }
}

/// Counters only grow; gauges hold the latest value.
public enum Metric: UInt16, Sendable, CaseIterable {
    // counters
    case radixQueryTokens, radixHitTokens, radixEvictedTokens, radixInsertedTokens
    case promptTokens, generatedTokens, finishedRequests, retractedRequests
    case expertTokens  // `a` = layer, `b` = expert
    // gauges
    case runningRequests, queuedRequests, kvPagesUsed, kvPagesTotal, radixNodes, radixCachedPages
    // counters added later go last, so the raw values `/v1/events` sends stay stable.
    /// Speculative decoding, per verified sequence: `specVerifies` 1, `specDraftTokens` its
    /// drafts, `specAcceptedTokens` the drafts the target accepted (`a` = drafts offered).
    case specVerifies, specDraftTokens, specAcceptedTokens

    public var isGauge: Bool {
        switch self {
        case .runningRequests, .queuedRequests, .kvPagesUsed, .kvPagesTotal, .radixNodes, .radixCachedPages: true
        default: false
        }
    }
}

/// One fixed-size record. Spans are a begin and an end sharing `batch`.
public struct Event: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case begin, end, counter, gauge }

    /// Nanoseconds on the monotonic clock.
    public var time: UInt64
    public var kind: Kind
    public var lane: Lane
    public var span: SpanKind
    public var metric: Metric
    public var batch: UInt32
    /// Span: tokens in the batch; counter/gauge: the value (counters add it).
    public var value: Int64
    /// Span: sequences in the batch; expert counters: layer and expert.
    public var a: Int32
    public var b: Int32

    public init(time: UInt64, kind: Kind, lane: Lane, span: SpanKind = .idle, metric: Metric = .runningRequests,
                batch: UInt32 = 0, value: Int64 = 0, a: Int32 = 0, b: Int32 = 0) {
        self.time = time
        self.kind = kind
        self.lane = lane
        self.span = span
        self.metric = metric
        self.batch = batch
        self.value = value
        self.a = a
        self.b = b
    }
}
