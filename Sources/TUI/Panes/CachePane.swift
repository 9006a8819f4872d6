import Profiler

/// The prefix cache: hit rate over time as a braille graph, the last request's hit rate, the
/// tokens it saved, the radix tree's size, evictions and the KV pages in use.
public enum CachePane {
    /// Columns for the graph's "100%"/"0%" axis.
    static let axisWidth = 5

    /// Computes the stats for this pane size (two hit-rate samples per graph column) and draws.
    public static func render(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, events: [Event], now: UInt64,
                              pageSize: Int, windowNanos: UInt64 = 1_000_000_000) {
        let windows = max(0, rect.width - 2 - axisWidth) * 2
        let stats = CacheStats(events, now: now, windowNanos: windowNanos, windows: windows, pageSize: pageSize)
        render(into: &buf, rect: rect, theme: theme, stats: stats)
    }

    public static func render(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, stats s: CacheStats) {
        let p = PaneStyle(theme)
        let inner = p.frame(&buf, rect, pane: .cache, boxKey: "cache_box",
                            title: "prefix cache · hit rate per \(Fmt.micros(Double(s.windowNanos) / 1000))")
        guard inner.width >= 10, inner.height >= 1 else { return }

        let headline = "hit rate \(Fmt.percent(s.overallHitRate)) overall · last request \(Fmt.percent(s.lastRequestHitRate))"
        let saved = "saved \(Fmt.count(s.tokensSaved)) of \(Fmt.count(s.tokensLookedUp)) prompt tokens"
        let tree = "tree \(s.treeNodes.map(Fmt.count) ?? "—") nodes · \(s.cachedTokens.map(Fmt.count) ?? "—") tokens cached"
        let churn = "evicted \(Fmt.count(s.evictedTokens)) · inserted \(Fmt.count(s.insertedTokens)) tokens"
        // Most important first; the graph takes whatever rows are left.
        var lines = [headline, "kv", saved, tree, churn]
        lines = Array(lines.prefix(inner.height))
        let graphRows = inner.height - lines.count
        var y = inner.y
        func text(_ line: String) {
            if line == "kv" {
                kvMeter(&buf, Rect(x: inner.x, y: y, width: inner.width, height: 1), used: s.kvPagesUsed, total: s.kvPagesTotal, style: p)
            } else {
                buf.put(line, in: inner, row: y - inner.y, style: line == headline ? p.fg("main_fg", bold: true) : p.fg("main_fg"))
            }
            y += 1
        }
        text(lines[0])
        if graphRows > 0 {
            let graphW = inner.width - axisWidth
            let rows = Glyphs.braille(s.hitRateSeries, width: graphW, height: graphRows)
            let series = Array(repeating: nil, count: max(0, graphW * 2 - s.hitRateSeries.count)) + s.hitRateSeries.suffix(graphW * 2)
            for (r, line) in rows.enumerated() {
                for (c, ch) in line.enumerated() {
                    // Each column takes the colour of its newer sample's hit rate.
                    let v = series[c * 2 + 1] ?? series[c * 2] ?? 0
                    buf.set(inner.x + axisWidth + c, y + r, String(ch), style: p.fg(theme.gradient("hitrate", at: v)))
                }
            }
            buf.put("100%", x: inner.x, y: y, style: p.label)
            if graphRows > 1 { buf.put("  0%", x: inner.x, y: y + graphRows - 1, style: p.label) }
            y += graphRows
        }
        for line in lines.dropFirst() { text(line) }
    }

    /// "KV pages ▕██████    ▏ 312/1024" with the bar coloured by how full the cache is.
    static func kvMeter(_ buf: inout ScreenBuffer, _ r: Rect, used: Int64?, total: Int64?, style p: PaneStyle) {
        let label = "KV pages "
        buf.put(label, in: r, row: 0, style: p.fg("main_fg"))
        guard let used, let total, total > 0 else {
            buf.put("—", in: r, col: label.count, row: 0, style: p.dim)
            return
        }
        let f = Double(used) / Double(total)
        let figures = " \(used)/\(total) \(Fmt.percent(f))"
        let barW = max(0, min(30, r.width - label.count - figures.count - 2))
        var x = label.count
        if barW > 0 {
            var fill = p.fg(p.theme.gradient("kv", at: f))
            fill.bg = p.theme["meter_bg"]
            buf.put("▕", in: r, col: x, row: 0, style: p.dim)
            for (i, g) in Glyphs.bar(f, width: barW).enumerated() { buf.put(g, in: r, col: x + 1 + i, row: 0, style: fill) }
            buf.put("▏", in: r, col: x + 1 + barW, row: 0, style: p.dim)
            x += barW + 2
        }
        buf.put(figures, in: r, col: x, row: 0, style: p.fg("main_fg"))
    }
}
