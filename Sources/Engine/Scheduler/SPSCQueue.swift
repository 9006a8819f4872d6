import Dispatch
import Synchronization

/// A bounded single-producer, single-consumer queue between the host and device threads.
/// Push and pop are a few atomic operations; a consumer with nothing to do parks on a
/// semaphore (a futex, touched only when it actually has to sleep). No mutex anywhere, so the
/// device thread never waits on a lock the host holds.
final class SPSCQueue<Element>: @unchecked Sendable {
    // `slots[i]` is written by the producer before it publishes `tail`, read by the consumer
    // after it observes it; each index is owned by one side at a time.
    private let slots: UnsafeMutablePointer<Element?>
    private let capacity: Int
    private let head = Atomic<Int>(0)  // next to pop (consumer)
    private let tail = Atomic<Int>(0)  // next to push (producer)
    private let items = DispatchSemaphore(value: 0)
    private let space: DispatchSemaphore

    init(capacity: Int) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        space = DispatchSemaphore(value: capacity)
    }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// Producer: blocks while the queue is full.
    func push(_ e: Element) {
        space.wait()
        let t = tail.load(ordering: .relaxed)
        slots[t % capacity] = e
        tail.store(t + 1, ordering: .releasing)
        items.signal()
    }

    /// Consumer: blocks until an element arrives.
    func pop() -> Element {
        items.wait()
        return take()
    }

    /// Consumer: an element if one is ready, without blocking. The indices answer: a
    /// semaphore wait with a timeout of now still goes to the kernel when the count is zero and
    /// sleeps until its timer fires, which the timer slack (50 us) delays, and the device thread
    /// asks this after every batch.
    func tryPop() -> Element? {
        guard tail.load(ordering: .acquiring) != head.load(ordering: .relaxed) else { return nil }
        items.wait()  // the producer signals right after it publishes `tail`
        return take()
    }

    /// Consumer, after `items` said an element is there.
    private func take() -> Element {
        let h = head.load(ordering: .relaxed)
        _ = tail.load(ordering: .acquiring)
        let e = slots[h % capacity]!
        slots[h % capacity] = nil
        head.store(h + 1, ordering: .releasing)
        space.signal()
        return e
    }
}
