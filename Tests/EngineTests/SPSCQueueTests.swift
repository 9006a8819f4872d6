import Foundation
import Testing
@testable import Engine

/// The host-to-device queue: FIFO, nothing lost or doubled, and `tryPop` on an empty queue
/// answers without taking a count that a later `pop` needs.
@Suite("single-producer single-consumer queue")
struct SPSCQueueTests {
    @Test func tryPopOnAnEmptyQueueLeavesTheNextPushToPop() {
        let q = SPSCQueue<Int>(capacity: 2)
        #expect(q.tryPop() == nil)
        #expect(q.tryPop() == nil)
        q.push(7)
        #expect(q.tryPop() == 7)
        #expect(q.tryPop() == nil)
        q.push(8)
        q.push(9)
        #expect(q.pop() == 8)
        #expect(q.tryPop() == 9)
        #expect(q.tryPop() == nil)
    }

    /// A producer thread fills a small queue (it blocks when full) while the consumer mixes
    /// `tryPop` and `pop`: every element arrives once, in order.
    @Test func elementsArriveOnceInOrderAcrossThreads() async {
        let q = SPSCQueue<Int>(capacity: 4)
        let n = 20000
        let producer = Thread {
            for i in 0 ..< n { q.push(i) }
        }
        producer.start()
        var got: [Int] = []
        got.reserveCapacity(n)
        var tries = 0
        while got.count < n {
            tries += 1
            if let x = q.tryPop() {
                got.append(x)
            } else if tries % 3 == 0 {
                got.append(q.pop())
            }
        }
        #expect(got == Array(0 ..< n))
        #expect(q.tryPop() == nil)
    }
}
