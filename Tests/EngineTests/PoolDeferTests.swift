import Foundation
import Kernels
import Testing

/// `rs_pool_defer`: the device thread hands a finished batch back from inside the next batch's
/// first kernel. The call must run exactly once, on the thread that deferred it, before that
/// thread's share of its next kernel.
@Suite("worker pool deferred call")
struct PoolDeferTests {
    private static let bump: rs_deferred_fn = { ctx in ctx!.assumingMemoryBound(to: Int.self).pointee += 1 }

    /// The deferred call's count as the issuer's share of a region saw it.
    private final class Seen: @unchecked Sendable {
        var counter = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        var atShare = -1
        init() { counter.pointee = 0 }
        deinit { counter.deallocate() }
    }

    @Test func runsOnceInsideTheNextRegionBeforeTheIssuersShare() {
        let seen = Seen()
        rs_pool_defer(Self.bump, seen.counter)
        #expect(seen.counter.pointee == 0)
        rs_parallel({ ctx, ith, _ in
            let s = Unmanaged<Seen>.fromOpaque(ctx!).takeUnretainedValue()
            if ith == 0 { s.atShare = s.counter.pointee }
        }, Unmanaged.passUnretained(seen).toOpaque())
        #expect(seen.atShare == 1)
        rs_parallel({ _, _, _ in }, nil)
        rs_pool_run_deferred()
        #expect(seen.counter.pointee == 1)
    }

    @Test func runsBeforeASerialKernel() {
        let seen = Seen()
        rs_pool_defer(Self.bump, seen.counter)
        rs_run_serial({ ctx, _, _ in
            let s = Unmanaged<Seen>.fromOpaque(ctx!).takeUnretainedValue()
            s.atShare = s.counter.pointee
        }, Unmanaged.passUnretained(seen).toOpaque())
        #expect(seen.atShare == 1 && seen.counter.pointee == 1)
    }

    @Test func otherThreadsKernelsLeaveItPending() {
        let seen = Seen()
        rs_pool_defer(Self.bump, seen.counter)
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            rs_parallel({ _, _, _ in }, nil)
            rs_run_serial({ _, _, _ in }, nil)
            rs_pool_run_deferred()
            done.signal()
        }
        t.start()
        done.wait()
        #expect(seen.counter.pointee == 0)
        rs_pool_run_deferred()
        rs_pool_run_deferred()
        #expect(seen.counter.pointee == 1)
    }

    @Test func aSecondDeferRunsTheFirstAtOnce() {
        let first = Seen(), second = Seen()
        rs_pool_defer(Self.bump, first.counter)
        rs_pool_defer(Self.bump, second.counter)
        #expect(first.counter.pointee == 1 && second.counter.pointee == 0)
        rs_pool_run_deferred()
        #expect(first.counter.pointee == 1 && second.counter.pointee == 1)
    }
}
