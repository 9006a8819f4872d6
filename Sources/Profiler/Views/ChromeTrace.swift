/// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process, one track
/// per lane, every span a complete ("X") event, KV pages and running requests as counters.
public enum ChromeTrace {
    public static func json(_ events: [Event], processName: String = "ringside") -> String {
        guard let t0 = events.map(\.time).min() else { return #"{"traceEvents":[],"displayTimeUnit":"ms"}"# }
        func us(_ t: UInt64) -> String { formatMicros(Double(t &- t0) / 1000) }
        var lines: [String] = []
        lines.append(#"{"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":\#(quote(processName))}}"#)
        for lane in Lane.allCases {
            lines.append(#"{"ph":"M","pid":1,"tid":\#(tid(lane)),"name":"thread_name","args":{"name":"\#(lane)"}}"#)
            lines.append(#"{"ph":"M","pid":1,"tid":\#(tid(lane)),"name":"thread_sort_index","args":{"sort_index":\#(tid(lane))}}"#)
        }
        // Outer spans first when two start together, so viewers nest them properly.
        let spans = Spans.pair(events).sorted { ($0.lane.rawValue, $0.start, $1.end) < ($1.lane.rawValue, $1.start, $0.end) }
        for s in spans {
            let name = s.kind.isBatch ? "#\(s.batch) \(s.kind)" : "\(s.kind)"
            lines.append(#"{"ph":"X","pid":1,"tid":\#(tid(s.lane)),"name":"\#(name)","cat":"\#(s.kind.isBatch ? "batch" : "phase")","ts":\#(us(s.start)),"dur":\#(formatMicros(Double(s.duration) / 1000)),"args":{"batch":\#(s.batch),"tokens":\#(s.tokens),"sequences":\#(s.sequences)}}"#)
        }
        let counters: [Metric: String] = [.kvPagesUsed: "kv_pages_used", .runningRequests: "running_requests", .queuedRequests: "queued_requests"]
        for e in events where e.kind == .gauge {
            guard let name = counters[e.metric] else { continue }
            lines.append(#"{"ph":"C","pid":1,"tid":0,"name":"\#(name)","ts":\#(us(e.time)),"args":{"value":\#(e.value)}}"#)
        }
        return "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" + lines.joined(separator: ",\n") + "\n]}\n"
    }

    static func tid(_ lane: Lane) -> Int { Int(lane.rawValue) + 1 }

    static func formatMicros(_ x: Double) -> String {
        let thousandths = (x * 1000).rounded()
        let whole = Int64(thousandths) / 1000, frac = abs(Int64(thousandths) % 1000)
        return frac == 0 ? "\(whole)" : "\(whole)." + String(String(frac + 1000).dropFirst())
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += "\\u" + String(String(u.value + 0x10000, radix: 16).dropFirst())
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
