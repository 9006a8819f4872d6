import Engine
import Foundation
import Kernels
import Testing

/// The worker pool's running totals (`PoolCounters`, what `microbench` reports per decode step).
/// Other suites run kernels at the same time, so each check is on the least this test's own
/// dispatches must have added.
@Suite("worker pool counters")
struct PoolCounterTests {
    @Test func aSmallKernelOnTheCallerIsCountedWithItsTime() {
        let before = PoolCounters.now()
        rs_run_serial({ _, _, _ in usleep(20_000) }, nil)
        let d = PoolCounters.now() - before
        #expect(d.smallSerial >= 1)
        #expect(d.serialNs >= 20_000_000)
    }

    @Test func aRegionIsCountedWithItsTime() {
        let before = PoolCounters.now()
        rs_parallel({ _, ith, _ in if ith == 0 { usleep(20_000) } }, nil)
        let d = PoolCounters.now() - before
        // Run on the pool, or on the caller alone during a stall backoff.
        #expect(d.regions + d.backoffSerial >= 1)
        #expect(d.regionNs + d.serialNs >= 20_000_000)
        #expect(d.waitNs <= d.regionNs)
    }

    @Test func differencesAndSumsAreFieldByField() {
        var a = PoolCounters()
        a.regions = 10; a.smallSerial = 4; a.backoffSerial = 3; a.stalls = 2; a.leftOut = 1
        a.regionNs = 1000; a.waitNs = 100; a.serialNs = 50
        let z = a - a
        #expect(z == PoolCounters())
        let twice = a + a
        #expect(twice.regions == 20 && twice.leftOut == 2 && twice.waitNs == 200 && twice.serialNs == 100)
    }
}
