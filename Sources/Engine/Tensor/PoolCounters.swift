import Kernels

/// How the kernels' work went to the worker pool (`Kernels/pool.c`): running totals since the
/// process started; subtract two readings for a stretch of work.
public struct PoolCounters: Sendable, Equatable {
    /// Parallel regions run on the pool's threads (with one thread: run on the caller).
    public var regions = 0
    /// Kernels too small to be worth waking the pool, run on the caller.
    public var smallSerial = 0
    /// Regions run on the caller alone because a worker had stalled shortly before.
    public var backoffSerial = 0
    /// Regions a worker finished far behind the caller (each may start a serial backoff).
    public var stalls = 0
    /// Workers left out of a region because they had not started when the caller was done.
    public var leftOut = 0
    /// Wall time of the regions; of it, the caller's wait for the workers after its own share.
    public var regionNs = 0, waitNs = 0
    /// Wall time of the kernels run on the caller (small or in a backoff).
    public var serialNs = 0

    public init() {}

    public static func now() -> PoolCounters {
        var s = rs_pool_stats()
        rs_pool_stats_read(&s)
        var c = PoolCounters()
        c.regions = Int(s.regions)
        c.smallSerial = Int(s.serial_small)
        c.backoffSerial = Int(s.serial_backoff)
        c.stalls = Int(s.stalls)
        c.leftOut = Int(s.left_out)
        c.regionNs = Int(s.region_ns)
        c.waitNs = Int(s.wait_ns)
        c.serialNs = Int(s.serial_ns)
        return c
    }

    public static func - (a: PoolCounters, b: PoolCounters) -> PoolCounters {
        var c = PoolCounters()
        c.regions = a.regions - b.regions
        c.smallSerial = a.smallSerial - b.smallSerial
        c.backoffSerial = a.backoffSerial - b.backoffSerial
        c.stalls = a.stalls - b.stalls
        c.leftOut = a.leftOut - b.leftOut
        c.regionNs = a.regionNs - b.regionNs
        c.waitNs = a.waitNs - b.waitNs
        c.serialNs = a.serialNs - b.serialNs
        return c
    }

    public static func + (a: PoolCounters, b: PoolCounters) -> PoolCounters {
        var c = a
        c.regions += b.regions
        c.smallSerial += b.smallSerial
        c.backoffSerial += b.backoffSerial
        c.stalls += b.stalls
        c.leftOut += b.leftOut
        c.regionNs += b.regionNs
        c.waitNs += b.waitNs
        c.serialNs += b.serialNs
        return c
    }
}
