import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where the engine's threads write what they do. Each lane has its own single-producer ring,
/// so the host and device threads never contend; readers take snapshots at any time.
///
/// Recording is cheap (a clock read and a 48-byte store), and can be switched off.
public final class Recorder: Sendable {
    private let rings: [Ring]
    private let enabledFlag = Atomic<Bool>(true)
    private let nextBatch = Atomic<UInt32>(1)

    public init(capacityPerLane: Int = 1 << 16) {
        rings = Lane.allCases.map { _ in Ring(capacity: capacityPerLane) }
    }

    public var enabled: Bool {
        get { enabledFlag.load(ordering: .relaxed) }
        set { enabledFlag.store(newValue, ordering: .relaxed) }
    }

    /// Nanoseconds on the monotonic clock.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public func newBatchID() -> UInt32 { nextBatch.add(1, ordering: .relaxed).oldValue }

    /// Records `e` on its lane. Call only from that lane's thread.
    @inline(__always)
    public func record(_ e: Event) {
        guard enabled else { return }
        rings[Int(e.lane.rawValue)].push(e)
    }

    public func begin(_ lane: Lane, _ span: SpanKind, batch: UInt32, tokens: Int = 0, sequences: Int = 0) {
        record(Event(time: Self.now(), kind: .begin, lane: lane, span: span, batch: batch, value: Int64(tokens), a: Int32(sequences)))
    }

    public func end(_ lane: Lane, _ span: SpanKind, batch: UInt32, tokens: Int = 0, sequences: Int = 0) {
        record(Event(time: Self.now(), kind: .end, lane: lane, span: span, batch: batch, value: Int64(tokens), a: Int32(sequences)))
    }

    public func count(_ lane: Lane, _ metric: Metric, _ value: Int, a: Int = 0, b: Int = 0) {
        record(Event(time: Self.now(), kind: .counter, lane: lane, metric: metric, value: Int64(value), a: Int32(a), b: Int32(b)))
    }

    public func gauge(_ lane: Lane, _ metric: Metric, _ value: Int) {
        record(Event(time: Self.now(), kind: .gauge, lane: lane, metric: metric, value: Int64(value)))
    }

    /// A reader's position in every lane; pass it back to read only what is new.
    public struct Cursor: Sendable {
        var next: [Int]
        public init() { next = Array(repeating: 0, count: Lane.allCases.count) }
        /// Events written up to this position, all lanes together: a reader that moved by
        /// more than it was given lost the difference to the writers lapping it.
        public var position: Int { next.reduce(0, +) }
    }

    /// New events of every lane since `cursor`, merged in time order.
    public func read(_ cursor: inout Cursor) -> [Event] {
        var all: [Event] = []
        for (i, ring) in rings.enumerated() {
            let (events, next) = ring.read(from: cursor.next[i])
            cursor.next[i] = next
            all += events
        }
        all.sort { $0.time < $1.time }
        return all
    }
}
