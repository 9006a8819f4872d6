import Foundation
import Testing
@testable import Profiler

@Suite("event ring")
struct RingTests {
    @Test func readsEverythingInOrderWhenKeepingUp() {
        let ring = Ring(capacity: 8)
        var next = 0
        var seen: [Int64] = []
        for i in 0 ..< 20 {
            ring.push(Event(time: UInt64(i), kind: .counter, lane: .host, value: Int64(i)))
            if i % 3 == 2 {
                let (events, n) = ring.read(from: next)
                seen += events.map(\.value)
                next = n
            }
        }
        seen += ring.read(from: next).0.map(\.value)
        #expect(seen == (0 ..< 20).map(Int64.init))
    }

    @Test func aLappedReaderGetsOnlyTheNewestIntactEvents() {
        let ring = Ring(capacity: 8)
        for i in 0 ..< 30 { ring.push(Event(time: UInt64(i), kind: .counter, lane: .host, value: Int64(i))) }
        let (events, next) = ring.read(from: 0)
        #expect(next == 30)
        // The oldest surviving slot could be torn by a concurrent writer, so it is dropped too.
        #expect(events.map(\.value) == (23 ..< 30).map(Int64.init))
    }

    /// A writer thread races a reader over a tiny ring: whatever the reader gets must be whole
    /// events (time and value written together), strictly increasing, never repeated.
    @Test func concurrentReaderNeverSeesTornOrRepeatedEvents() async {
        let ring = Ring(capacity: 16)
        let total = 200_000
        let writer = Thread {
            for i in 1 ... total {
                ring.push(Event(time: UInt64(i) * 3, kind: .counter, lane: .device, batch: UInt32(i), value: Int64(i)))
            }
        }
        writer.start()
        var next = 0
        var last: Int64 = 0
        var received = 0
        var torn = 0
        while last < Int64(total) {
            let (events, n) = ring.read(from: next)
            next = n
            for e in events {
                if e.time != UInt64(e.value) * 3 || e.batch != UInt32(e.value) { torn += 1 }
                #expect(e.value > last)
                last = e.value
                received += 1
            }
        }
        #expect(torn == 0)
        #expect(received > 0 && received <= total)
    }
}

@Suite("recorder")
struct RecorderTests {
    @Test func mergesLanesInTimeOrderAndHonoursTheSwitch() {
        let r = Recorder(capacityPerLane: 64)
        r.record(Event(time: 5, kind: .begin, lane: .device, span: .decode, batch: 1))
        r.record(Event(time: 3, kind: .begin, lane: .host, span: .schedule, batch: 1))
        r.record(Event(time: 9, kind: .end, lane: .host, span: .schedule, batch: 1))
        r.enabled = false
        r.record(Event(time: 7, kind: .end, lane: .device, span: .decode, batch: 1))
        r.enabled = true
        var cursor = Recorder.Cursor()
        #expect(r.read(&cursor).map(\.time) == [3, 5, 9])
        #expect(r.read(&cursor).isEmpty)
        r.count(.host, .radixHitTokens, 32)
        let more = r.read(&cursor)
        #expect(more.count == 1 && more[0].metric == .radixHitTokens && more[0].value == 32)
    }
}
