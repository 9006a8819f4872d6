/// The share of device busy time during which the host was busy too: 0 when the two take
/// turns, near 1 when the host always prepares the next batch while the device computes.
public enum Overlap {
    public static func ratio(_ events: [Event]) -> Double? { ratio(spans: Spans.pair(events)) }

    public static func ratio(spans: [Span]) -> Double? {
        let device = merged(Spans.batches(spans, lane: .device).map { ($0.start, $0.end) })
        // Host phases, not the device's batches: the host lane has no batch spans.
        let host = merged(spans.filter { $0.lane == .host }.map { ($0.start, $0.end) })
        let busy = device.reduce(UInt64(0)) { $0 + ($1.1 - $1.0) }
        guard busy > 0 else { return nil }
        var both: UInt64 = 0
        var j = 0
        for d in device {
            while j < host.count && host[j].1 <= d.0 { j += 1 }
            var k = j
            while k < host.count && host[k].0 < d.1 {
                let lo = max(d.0, host[k].0), hi = min(d.1, host[k].1)
                if hi > lo { both += hi - lo }
                k += 1
            }
        }
        return Double(both) / Double(busy)
    }

    /// Sorted, non-overlapping intervals covering the same time.
    static func merged(_ xs: [(UInt64, UInt64)]) -> [(UInt64, UInt64)] {
        var out: [(UInt64, UInt64)] = []
        for x in xs.sorted(by: { $0.0 < $1.0 }) where x.1 > x.0 {
            if let last = out.last, x.0 <= last.1 {
                out[out.count - 1].1 = max(last.1, x.1)
            } else {
                out.append(x)
            }
        }
        return out
    }
}
