import Profiler

/// Deterministic profiler streams for the pane tests: no clocks, no randomness.
enum Synthetic {
    static let us: UInt64 = 1000
    /// A monotonic clock reads the time since boot: start an hour in, as a real one would.
    static let base: UInt64 = 3600_000_000_000

    /// An overlap-scheduled run of `n` batches: the host schedules and launches batch i while
    /// the device runs batch i-1, then collects i-1's results. Returns events and the time of
    /// the last event.
    static func pipeline(batches n: Int = 30) -> (events: [Event], end: UInt64) {
        var ev: [Event] = []
        func span(_ lane: Lane, _ kind: SpanKind, _ batch: Int, _ s: UInt64, _ e: UInt64, tokens: Int = 0, seqs: Int = 0) {
            ev.append(Event(time: s, kind: .begin, lane: lane, span: kind, batch: UInt32(batch), value: Int64(tokens), a: Int32(seqs)))
            ev.append(Event(time: e, kind: .end, lane: lane, span: kind, batch: UInt32(batch), value: Int64(tokens), a: Int32(seqs)))
        }
        var host = base, deviceFree = base
        var prevEnd: UInt64 = 0
        for i in 1 ... n {
            let kind: SpanKind = i == 1 || i == 12 ? .prefill : i == 2 || i == 13 ? .mixed : i == 20 ? .idle : .decode
            let sched = UInt64(120 + (i % 3) * 30) * us
            span(.host, .schedule, i, host, host + sched)
            span(.host, .launch, i, host + sched, host + sched + 20 * us)
            host += sched + 20 * us
            let gap = UInt64(30 + (i * 37) % 90) * us
            let start = max(host, deviceFree) + gap
            let dur: UInt64 = switch kind {
            case .prefill: 2500 * us
            case .mixed: 1400 * us
            case .idle: 300 * us
            default: UInt64(800 + (i % 4) * 50) * us
            }
            let tokens = kind == .prefill ? 512 : kind == .mixed ? 260 : 4
            span(.device, kind, i, start, start + dur, tokens: tokens, seqs: 4)
            span(.device, .forward, i, start, start + dur - 100 * us, tokens: tokens, seqs: 4)
            span(.device, .sample, i, start + dur - 100 * us, start + dur, seqs: 4)
            deviceFree = start + dur
            if i > 1 {
                let c = max(host, prevEnd) + 5 * us
                span(.host, .collect, i - 1, c, c + 60 * us)
                host = c + 60 * us
            }
            prevEnd = start + dur
        }
        ev.sort { $0.time < $1.time }
        return (ev, ev.last!.time)
    }

    /// Two minutes of requests, one every half second, whose prompts share more and more with
    /// the cache (the hit rate climbs from 0 to about 90%), with the tree and KV gauges.
    static func cache() -> (events: [Event], end: UInt64) {
        var ev: [Event] = []
        let step: UInt64 = 500_000_000
        for i in 0 ..< 240 {
            let t = base + UInt64(i) * step
            let query = Int64(400 + (i % 5) * 40)
            let hit = i < 20 ? 0 : min(query * 9 / 10, query * Int64(i) / 240 + Int64((i * 13) % 50))
            ev.append(Event(time: t, kind: .counter, lane: .host, metric: .radixQueryTokens, value: query))
            ev.append(Event(time: t + 1, kind: .counter, lane: .host, metric: .radixHitTokens, value: hit))
            ev.append(Event(time: t + 2, kind: .counter, lane: .host, metric: .radixInsertedTokens, value: query - hit))
            if i % 40 == 39 { ev.append(Event(time: t + 3, kind: .counter, lane: .host, metric: .radixEvictedTokens, value: 256)) }
            ev.append(Event(time: t + 4, kind: .gauge, lane: .host, metric: .kvPagesUsed, value: Int64(300 + i * 2)))
            ev.append(Event(time: t + 5, kind: .gauge, lane: .host, metric: .kvPagesTotal, value: 1024))
            ev.append(Event(time: t + 6, kind: .gauge, lane: .host, metric: .radixNodes, value: Int64(10 + i / 3)))
            ev.append(Event(time: t + 7, kind: .gauge, lane: .host, metric: .radixCachedPages, value: Int64(40 + i)))
        }
        return (ev, base + 240 * step)
    }

    /// Routings of a `layers` x `experts` MoE over 20 s: each layer favours a few experts
    /// (layer 1 heavily), so the heat map and the imbalance column have something to show.
    static func experts(layers: Int = 8, experts: Int = 32) -> (events: [Event], end: UInt64) {
        var ev: [Event] = []
        for s in 0 ..< 20 {
            let t = base + UInt64(s) * 1_000_000_000
            for l in 0 ..< layers {
                for x in 0 ..< experts {
                    let favourite = x == (l * 5 + s / 10) % experts || x == (l * 3 + 7) % experts
                    let n = favourite ? (l == 1 ? 400 : 120) : (x * 7 + l * 3) % 5 == 0 ? 0 : (x + l) % 9 + 1
                    if n > 0 { ev.append(Event(time: t + UInt64(l), kind: .counter, lane: .device, metric: .expertTokens, value: Int64(n), a: Int32(l), b: Int32(x))) }
                }
            }
        }
        return (ev, base + 20 * 1_000_000_000)
    }
}
