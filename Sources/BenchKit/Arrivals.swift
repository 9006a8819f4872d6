import Engine
import Foundation

/// When each request of a run starts, in seconds after the run began.
public enum Arrivals {
    /// Poisson arrivals at `rate` requests per second (exponential gaps, the first at 0), as
    /// bench_serving's `--request-rate`; all at 0 when `rate` is nil.
    public static func starts(count: Int, rate: Double?, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed &+ 7)
        var starts: [Double] = []
        starts.reserveCapacity(count)
        var t = 0.0
        for _ in 0 ..< count {
            starts.append(t)
            if let rate, rate > 0 {
                // Inverse-CDF sampling; u is kept off 0 so that the gap stays finite.
                let u = max(Double(rng.next() % 1_000_000) / 1_000_000, 1e-9)
                t += -log(u) / rate
            }
        }
        return starts
    }
}
