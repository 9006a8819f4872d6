import Synchronization

/// A single-producer ring of events. The writer never blocks and never allocates; when the
/// reader falls behind, the oldest events are overwritten (the reader notices and skips them).
final class Ring: @unchecked Sendable {
    // `slots` is written only by the producer at `head`; readers copy a range and then check
    // that the producer has not lapped it (a seqlock on the head counter).
    private let slots: UnsafeMutablePointer<Event>
    let capacity: Int
    /// Events written so far (monotonic).
    private let head = Atomic<Int>(0)

    init(capacity: Int) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "capacity must be a power of two")
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Event(time: 0, kind: .counter, lane: .host), count: capacity)
    }

    deinit { slots.deallocate() }

    /// Producer only.
    @inline(__always)
    func push(_ e: Event) {
        let h = head.load(ordering: .relaxed)
        slots[h & (capacity - 1)] = e
        head.store(h + 1, ordering: .releasing)
    }

    var written: Int { head.load(ordering: .acquiring) }

    /// Copies events with sequence numbers in `from ..< written` that are still in the ring.
    /// Returns them and the next sequence number to ask for.
    func read(from: Int) -> ([Event], Int) {
        let end = head.load(ordering: .acquiring)
        var start = max(from, end - capacity)
        var out: [Event] = []
        out.reserveCapacity(end - start)
        for s in start ..< end { out.append(slots[s & (capacity - 1)]) }
        // Whatever the producer overwrote while we copied is dropped from the front. Sequence
        // `after` may be half-written over slot `after - capacity`, so that one goes too.
        let after = head.load(ordering: .acquiring)
        let firstIntact = after - capacity + 1
        if firstIntact > start {
            out.removeFirst(min(out.count, firstIntact - start))
            start = firstIntact
        }
        return (out, end)
    }
}
