import Profiler

/// The timeline, cache and experts panes for a server whose own batches and events are not
/// visible (SGLang, SGLang-JAX, vLLM, llama.cpp): what its metrics say, and the requests this
/// cockpit sent as lanes. A pane with nothing to show from the server says so in one line.
enum ServerPanes {
    /// Lanes of the requests this cockpit sent over the last `window`: waiting for the first
    /// token (light), then generating (solid), with the server's latency figures on top.
    static func timeline(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, view v: ServerView, now: UInt64,
                         window: UInt64 = 30_000_000_000) {
        let p = PaneStyle(theme)
        let inner = p.frame(&buf, rect, pane: .timeline, boxKey: "timeline_box",
                            title: "requests · \(v.kind) · last \(Fmt.micros(Double(window) / 1000))")
        guard inner.width > 20, inner.height >= 2 else { return }
        var figures: [String] = []
        if let r = v.running { figures.append("\(Int(r)) running") }
        if let q = v.queued { figures.append("\(Int(q)) queued") }
        if let t = v.ttft { figures.append("TTFT p50 \(Fmt.micros(t * 1e6))") }
        if let t = v.itl { figures.append("ITL p50 \(Fmt.micros(t * 1e6))") }
        if let t = v.throughput { figures.append("\(Fmt.fixed(t, 1)) tok/s") }
        buf.put(figures.isEmpty ? "\(v.kind) reports no scheduler figures" : "server: " + figures.joined(separator: " · "),
                in: inner, row: 0, style: p.fg("graph_text"))
        let origin = now &- min(now, window)
        let recent = v.requests.filter { ($0.lastToken ?? now) >= origin || !$0.finished }
        guard !recent.isEmpty else {
            buf.put("no requests from this cockpit yet; the server's own batches are not visible from outside",
                    in: inner, row: 1, style: p.dim)
            return
        }
        let labelW = 6, infoW = 22
        let barW = max(4, inner.width - labelW - infoW)
        let perCol = Double(window) / Double(barW)
        func col(_ t: UInt64) -> Int { t <= origin ? 0 : min(barW, Int(Double(t - origin) / perCol)) }
        for (i, r) in recent.suffix(inner.height - 1).enumerated() {
            let y = 1 + i
            buf.put("#\(r.id)", in: inner, row: y, style: p.label)
            let end = r.finished ? (r.lastToken ?? now) : now
            let first = r.firstToken ?? (r.finished ? end : now)
            let (a, b, c) = (col(r.sent), col(first), max(col(first), col(end)))
            for x in a ..< max(a + 1, b) where x < barW {
                buf.put("░", in: inner, col: labelW + x, row: y, style: p.fg(r.failed ? "error_fg" : "inactive_fg"))
            }
            for x in b ..< c where x < barW {
                buf.put("█", in: inner, col: labelW + x, row: y, style: r.failed ? p.fg("error_fg") : p.fg(p.color(.decode) ?? theme["main_fg"]))
            }
            var info = r.firstToken.map { "TTFT " + Fmt.micros(Double($0 - r.sent) / 1000) } ?? (r.finished ? "no tokens" : "waiting")
            info += " · \(r.tokens) tok"
            if r.failed { info = "failed" }
            buf.put(info, in: inner, col: labelW + barW + 1, row: y, style: p.fg("main_fg"))
        }
    }

    static func cache(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, view v: ServerView) {
        let p = PaneStyle(theme)
        let inner = p.frame(&buf, rect, pane: .cache, boxKey: "cache_box", title: "prefix cache · \(v.kind) · per scrape")
        guard inner.width >= 10, inner.height >= 1 else { return }
        let headline: String
        switch (v.cacheHitRate, v.overallCacheHitRate) {
        case let (last?, overall?): headline = "hit rate \(Fmt.percent(last)) last scrape · \(Fmt.percent(overall)) overall"
        case let (nil, overall?): headline = "hit rate \(Fmt.percent(overall)) overall · none looked up lately"
        case let (last?, nil): headline = "hit rate \(Fmt.percent(last)) last scrape"
        case (nil, nil): headline = "\(v.kind) reports no cache hit rate"
        }
        var lines = [headline, "kv"]
        var tokens: [String] = []
        if let t = v.promptTokens { tokens.append("prompt \(Fmt.count(Int64(t)))") }
        if let t = v.generationTokens { tokens.append("generated \(Fmt.count(Int64(t)))") }
        if !tokens.isEmpty { lines.append(tokens.joined(separator: " · ") + " tokens") }
        if let r = v.retractions { lines.append("retracted or preempted \(Fmt.count(Int64(r)))") }
        lines = Array(lines.prefix(inner.height))
        let graphRows = inner.height - lines.count
        var y = inner.y
        buf.put(lines[0], in: inner, row: 0, style: p.fg("main_fg", bold: true))
        y += 1
        if graphRows > 0 {
            let axis = CachePane.axisWidth
            let graphW = inner.width - axis
            let series = v.hitRateSeries
            let rows = Glyphs.braille(series, width: graphW, height: graphRows)
            let padded = Array(repeating: nil, count: max(0, graphW * 2 - series.count)) + series.suffix(graphW * 2)
            for (r, line) in rows.enumerated() {
                for (c, ch) in line.enumerated() {
                    let val = padded[c * 2 + 1] ?? padded[c * 2] ?? 0
                    buf.set(inner.x + axis + c, y + r, String(ch), style: p.fg(theme.gradient("hitrate", at: val)))
                }
            }
            buf.put("100%", x: inner.x, y: y, style: p.label)
            if graphRows > 1 { buf.put("  0%", x: inner.x, y: y + graphRows - 1, style: p.label) }
            y += graphRows
        }
        for line in lines.dropFirst() {
            if line == "kv" {
                let label = "KV in use "
                buf.put(label, in: inner, row: y - inner.y, style: p.fg("main_fg"))
                if let u = v.tokenUsage {
                    let barW = max(0, min(30, inner.width - label.count - 8))
                    var fill = p.fg(theme.gradient("kv", at: u))
                    fill.bg = theme["meter_bg"]
                    for (i, g) in Glyphs.bar(u, width: barW).enumerated() {
                        buf.put(g, in: inner, col: label.count + i, row: y - inner.y, style: fill)
                    }
                    buf.put(" " + Fmt.percent(u), in: inner, col: label.count + barW, row: y - inner.y, style: p.fg("main_fg"))
                } else {
                    buf.put("— (\(v.kind) does not report it)", in: inner, col: label.count, row: y - inner.y, style: p.dim)
                }
            } else {
                buf.put(line, in: inner, row: y - inner.y, style: p.fg("main_fg"))
            }
            y += 1
        }
    }

    static func experts(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, view v: ServerView, keymap: Keymap) {
        let p = PaneStyle(theme)
        let balance = v.balancedness.map { "balancedness " + Fmt.fixed($0, 2) }
        guard let counts = v.expertCounts, !counts.isEmpty else {
            let inner = p.frame(&buf, rect, pane: .experts, boxKey: "moe_box", title: "experts · \(v.kind)")
            guard inner.width >= 10, inner.height >= 1 else { return }
            var lines: [String] = []
            // The Summary without the heat map: the one figure the server gives.
            if let balance { lines.append(balance + " (mean EP-rank load over the largest; 1 is even)") }
            lines += wrap(v.expertNote, width: inner.width)
            for (i, l) in lines.prefix(inner.height).enumerated() {
                buf.put(l, in: inner, row: i, style: p.fg(i == 0 && balance != nil ? "graph_text" : "main_fg"))
            }
            return
        }
        // Counts since the server started, as one counter event per cell at time 0.
        var events: [Event] = []
        for (l, row) in counts.enumerated() {
            for (x, c) in row.enumerated() where c > 0 {
                events.append(Event(time: 1, kind: .counter, lane: .device, metric: .expertTokens, value: c, a: Int32(l), b: Int32(x)))
            }
        }
        let shape = ExpertShape(modelName: v.kind, layers: counts.count, experts: counts.map(\.count).max() ?? 0)
        let ranks = v.expertColumns != "experts"
        ExpertsPane.render(into: &buf, rect: rect, theme: theme, events: events, now: 2, shape: shape, window: .all, keymap: keymap,
                           columns: v.expertColumns, columnLetter: ranks ? "R" : "E",
                           titleNote: ([v.kind] + (balance.map { [$0] } ?? [])).joined(separator: " · "))
    }
}
