import Profiler

/// What the timeline shows besides the events: how much time, and whether it is frozen.
public struct TimelineOptions: Sendable, Equatable {
    /// Time across the lanes' width, in nanoseconds.
    public var windowNanos: UInt64
    /// Frozen: the app stops advancing `now` and the title says so.
    public var paused: Bool

    public init(windowNanos: UInt64 = 20_000_000, paused: Bool = false) {
        self.windowNanos = windowNanos
        self.paused = paused
    }

    /// Zoom steps: a decode batch of a small model takes about a millisecond, a long prefill
    /// a second.
    public static let zoomSteps: [UInt64] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000].map { $0 * 1_000_000 }

    /// The next zoom step in (less time, more detail) or out.
    public func zoomed(in zoomIn: Bool) -> TimelineOptions {
        let steps = Self.zoomSteps
        let i = steps.firstIndex { $0 >= windowNanos } ?? steps.count - 1
        var o = self
        o.windowNanos = steps[zoomIn ? max(0, i - 1) : min(steps.count - 1, i + 1)]
        return o
    }
}

/// Host and device lanes scrolling with time, right edge = `now`. Batch N on the device sits
/// under the host's work for batch N+1 when the overlap scheduler is doing its job; gaps in the
/// device lane are labelled with their length, and the stats line summarises all `events`.
public enum TimelinePane {
    /// Columns taken by the lane names.
    static let labelWidth = 7

    public static func render(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, events: [Event], now: UInt64,
                              options: TimelineOptions = TimelineOptions()) {
        let p = PaneStyle(theme)
        let state = options.paused ? " · ⏸ paused" : ""
        let inner = p.frame(&buf, rect, pane: .timeline, boxKey: "timeline_box",
                            title: "timeline · \(Fmt.micros(Double(options.windowNanos) / 1000))\(state)")
        guard inner.width > labelWidth + 4, inner.height >= 3 else { return }

        let spans = Spans.pair(events) + openSpans(events, now: now)
        let device = Spans.batches(spans, lane: .device)
        let host = spans.filter { $0.lane == .host }.sorted { $0.start < $1.start }
        let kindOf = Dictionary(device.map { ($0.batch, $0.kind) }, uniquingKeysWith: { a, _ in a })

        // Rows from the top; the least important go first when the pane is short.
        var rows = ["hostLabels", "host", "device", "deviceLabels", "gaps", "stats", "axis"]
        for drop in ["axis", "hostLabels", "gaps", "deviceLabels", "stats"] where rows.count > inner.height {
            rows.removeAll { $0 == drop }
        }
        func row(_ name: String) -> Int? { rows.firstIndex(of: name).map { inner.y + $0 } }

        let barX = inner.x + labelWidth, barW = inner.width - labelWidth
        let window = max(1, options.windowNanos)
        let origin = now &- min(now, window)
        let perColumn = Double(window) / Double(barW)

        if let y = row("host") {
            buf.put("host", x: inner.x, y: y, style: p.label)
            var lane = LaneRenderer(columns: barW, origin: origin, nanosPerColumn: perColumn)
            for (i, s) in host.enumerated() { lane.add(i, start: s.start, end: s.end) }
            lane.draw(into: &buf, x: barX, y: y, base: p.base) { i in
                kindOf[host[i].batch].flatMap(p.color) ?? theme["host_fg"]
            }
            if let ly = row("hostLabels") {
                // One label per batch the host worked on, at its first phase.
                var firsts: [(UInt32, UInt64)] = []
                for s in host where !firsts.contains(where: { $0.0 == s.batch }) { firsts.append((s.batch, s.start)) }
                placeLabels(&buf, firsts.map { (lane.column($0.1), ["#\($0.0)"]) }, x: barX, y: ly, width: barW, style: p.label)
            }
        }
        if let y = row("device") {
            buf.put("device", x: inner.x, y: y, style: p.label)
            var lane = LaneRenderer(columns: barW, origin: origin, nanosPerColumn: perColumn)
            for (i, s) in device.enumerated() { lane.add(i, start: s.start, end: s.end) }
            lane.draw(into: &buf, x: barX, y: y, base: p.base) { p.color(device[$0].kind) }
            if let ly = row("deviceLabels") {
                let labels = device.map { s in
                    (lane.column(s.start), ["#\(s.batch) \(s.kind)", "#\(s.batch) \(s.kind.description.prefix(1))", "#\(s.batch)"])
                }
                placeLabels(&buf, labels, x: barX, y: ly, width: barW, style: p.fg("main_fg"))
            }
            if let gy = row("gaps") {
                let gaps = zip(device, device.dropFirst()).filter { $1.start > $0.end }.map { a, b in
                    (lane.column(a.end), ["└" + Fmt.micros(Double(b.start - a.end) / 1000)])
                }
                placeLabels(&buf, gaps, x: barX, y: gy, width: barW, style: p.fg("gap_fg"))
            }
        }
        if let y = row("axis") {
            var marks: [(Int, [String])] = []
            for q in stride(from: 4, through: 1, by: -1) {
                let col = barW - barW * q / 4
                marks.append((col, ["├-" + Fmt.micros(Double(window) * Double(q) / 4 / 1000)]))
            }
            placeLabels(&buf, marks, x: barX, y: y, width: barW, style: p.dim)
            buf.put("now┤", x: barX + barW - 4, y: y, style: p.dim)
        }
        if let y = row("stats") {
            buf.put(statsLine(spans), in: inner, row: y - inner.y, style: p.fg("graph_text"))
        }
        let tableTop = inner.y + rows.count + 1
        if inner.maxY - tableTop >= 2 {
            renderTable(&buf, Rect(x: inner.x, y: tableTop, width: inner.width, height: inner.maxY - tableTop),
                        device: device, host: host, style: p)
        }
    }

    /// "overlap 82% · gap p50 41µs p99 130µs · prefill→decode 55µs".
    public static func statsLine(_ spans: [Span]) -> String {
        let gaps = GapStats(spans: spans)
        let p2d = Percentile.of(gaps.prefillToDecode, 50)
        func us(_ v: Double?) -> String { v.map(Fmt.micros) ?? "—" }
        return "overlap \(Fmt.percent(Overlap.ratio(spans: spans))) · gap p50 \(us(gaps.percentile(50))) p99 \(us(gaps.percentile(99)))"
            + " · prefill→decode \(us(p2d))"
    }

    /// Spans begun but not ended yet, drawn up to `now` so the running batch is visible.
    static func openSpans(_ events: [Event], now: UInt64) -> [Span] {
        struct Key: Hashable { var lane: Lane; var kind: SpanKind; var batch: UInt32 }
        var open: [Key: Event] = [:]
        for e in events {
            let k = Key(lane: e.lane, kind: e.span, batch: e.batch)
            if e.kind == .begin { open[k] = e } else if e.kind == .end { open[k] = nil }
        }
        return open.values.filter { $0.time <= now }.sorted { $0.time < $1.time }.map {
            Span(lane: $0.lane, kind: $0.span, batch: $0.batch, start: $0.time, end: now, tokens: Int($0.value), sequences: Int($0.a))
        }
    }

    /// Writes labels left to right at their columns, using the first variant that fits before
    /// the next label and skipping a label when none does. Labels left of the row are pulled in.
    static func placeLabels(_ buf: inout ScreenBuffer, _ labels: [(Int, [String])], x: Int, y: Int, width: Int, style: CellStyle) {
        let sorted = labels.sorted { $0.0 < $1.0 }
        var free = 0
        for (i, (col, variants)) in sorted.enumerated() {
            guard col < width else { break }
            let start = max(col, free)
            let limit = min(width, i + 1 < sorted.count ? max(sorted[i + 1].0, start) : width)
            guard let text = variants.first(where: { start + ScreenBuffer.columns(of: $0) <= limit }) else { continue }
            buf.put(text, x: x + start, y: y, style: style)
            free = start + ScreenBuffer.columns(of: text) + 1
        }
    }

    /// Recent device batches, newest first, with how much of each the host spent preparing
    /// the next one at the same time (the overlap scheduler's win, batch by batch).
    static func renderTable(_ buf: inout ScreenBuffer, _ r: Rect, device: [Span], host: [Span], style p: PaneStyle) {
        let header = "batch  kind      tokens  seqs    device  next prep∥  gap after"
        buf.put(header, in: r, row: 0, style: p.dim)
        let hostByBatch = Dictionary(grouping: host, by: \.batch)
        for (i, s) in device.reversed().prefix(r.height - 1).enumerated() {
            let idx = device.count - 1 - i
            let next = hostByBatch[s.batch + 1] ?? []
            let overlap = next.reduce(UInt64(0)) { acc, h in
                let lo = max(h.start, s.start), hi = min(h.end, s.end)
                return acc + (hi > lo ? hi - lo : 0)
            }
            let gap = idx + 1 < device.count && device[idx + 1].start > s.end
                ? Fmt.micros(Double(device[idx + 1].start - s.end) / 1000) : "—"
            let line = pad("#\(s.batch)", 7) + pad(s.kind.description, 8) + lpad("\(s.tokens)", 8) + lpad("\(s.sequences)", 6)
                + lpad(Fmt.micros(Double(s.duration) / 1000), 10) + lpad(Fmt.micros(Double(overlap) / 1000), 12) + lpad(gap, 11)
            buf.put(line, in: r, row: i + 1, style: p.fg("main_fg"))
            buf.put(pad(s.kind.description, 8), in: r, col: 7, row: i + 1, style: p.fg(p.color(s.kind)))
        }
    }
}

func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - ScreenBuffer.columns(of: s))) }
func lpad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - ScreenBuffer.columns(of: s))) + s }
