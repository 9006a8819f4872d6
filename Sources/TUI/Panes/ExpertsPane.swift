import Profiler

/// How far back the experts pane counts routings.
public enum ExpertWindow: Sendable, CaseIterable, Equatable {
    case seconds1, seconds10, seconds60, all

    public var nanos: UInt64? {
        switch self {
        case .seconds1: 1_000_000_000
        case .seconds10: 10_000_000_000
        case .seconds60: 60_000_000_000
        case .all: nil
        }
    }

    public var label: String {
        switch self {
        case .seconds1: "last 1s"
        case .seconds10: "last 10s"
        case .seconds60: "last 60s"
        case .all: "since start"
        }
    }

    /// The window the window key selects next.
    public var next: ExpertWindow {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// The model's shape as far as the experts pane cares; `experts == 0` is a dense model.
public struct ExpertShape: Sendable, Equatable {
    public var modelName: String
    public var layers: Int
    public var experts: Int

    public init(modelName: String, layers: Int, experts: Int) {
        self.modelName = modelName
        self.layers = layers
        self.experts = experts
    }
}

/// MoE routing as a heat map of layers x experts, with per-layer imbalance (max/mean) and the
/// hottest experts. When there are more experts or layers than cells, neighbours are summed.
public enum ExpertsPane {
    /// - Parameters:
    ///   - columns: what a column counts ("experts"; "EP ranks" for SGLang's heat map), and
    ///     `columnLetter` its letter in the hottest list.
    ///   - titleNote: appended to the pane's title.
    public static func render(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, events: [Event], now: UInt64,
                              shape: ExpertShape, window: ExpertWindow, keymap: Keymap = .cockpit,
                              columns: String = "experts", columnLetter: String = "E", titleNote: String? = nil) {
        let p = PaneStyle(theme)
        let inner = p.frame(&buf, rect, pane: .experts, boxKey: "moe_box",
                            title: "experts · \(window.label)" + (titleNote.map { " · " + $0 } ?? ""))
        guard inner.width >= 10, inner.height >= 1 else { return }
        guard shape.experts > 0, shape.layers > 0 else {
            let lines = wrap("\(shape.modelName) is a dense model: every token uses the same weights, so there are no experts to show.", width: inner.width)
                + [""] + wrap("Switch to a MoE model with \(keymap.label(for: .switchModel)).", width: inner.width)
            let top = max(0, (inner.height - lines.count) / 2)
            for (i, l) in lines.prefix(inner.height).enumerated() {
                buf.put(l, in: inner, row: top + i, style: i < lines.count - 1 ? p.fg("main_fg") : p.fg("hi_fg"))
            }
            return
        }
        let from = window.nanos.map { now &- min(now, $0) } ?? 0
        let recent = events.filter { $0.metric == .expertTokens && $0.kind == .counter && $0.time >= from && $0.time <= now }
        let load = ExpertLoad(recent, layers: shape.layers, experts: shape.experts)
        let total = load.counts.reduce(Int64(0)) { $0 + $1.reduce(0, +) }

        buf.put("\(shape.layers) layers × \(shape.experts) \(columns) · \(Fmt.count(total)) routings · \(keymap.label(for: .expertWindow)) window",
                in: inner, row: 0, style: p.fg("graph_text"))
        let mapRows = inner.height - 2
        guard mapRows >= 1 else { return }

        // Buckets: layers per row and experts per column, rounded up so everything fits.
        let labelW = 6, imbW = 7
        let heatW = max(1, inner.width - labelW - imbW)
        let expertsPerCol = (shape.experts + heatW - 1) / heatW
        let cols = (shape.experts + expertsPerCol - 1) / expertsPerCol
        let layersPerRow = (shape.layers + mapRows - 1) / mapRows
        let rows = (shape.layers + layersPerRow - 1) / layersPerRow
        var cells = Array(repeating: Array(repeating: Int64(0), count: cols), count: rows)
        for (l, row) in load.counts.enumerated() {
            for (x, c) in row.enumerated() { cells[l / layersPerRow][x / expertsPerCol] += c }
        }
        for r in 0 ..< rows {
            // Shade relative to the row's busiest expert: imbalance is a per-layer question, and
            // one hot layer would otherwise flatten every other row to the lowest block.
            let hottest = max(1, cells[r].max() ?? 1)
            let y = 1 + r
            let first = r * layersPerRow, last = min(shape.layers, first + layersPerRow) - 1
            buf.put(first == last ? "L\(first)" : "L\(first)-\(last)", in: inner, row: y, style: p.label)
            for c in 0 ..< cols {
                let v = cells[r][c]
                if v == 0 {
                    buf.put("·", in: inner, col: labelW + c, row: y, style: p.dim)
                } else {
                    let f = Double(v) / Double(hottest)
                    let level = max(1, Int((f * 8).rounded()))
                    buf.put(Glyphs.lowerEighths[level], in: inner, col: labelW + c, row: y, style: p.fg(theme.gradient("expert", at: f)))
                }
            }
            // A bucket of layers shows its worst layer: imbalance is what the user hunts for.
            let imb = (first ... last).compactMap { load.imbalance(layer: $0) }.max()
            let text = imb.map { "×" + Fmt.fixed($0, 1) } ?? "—"
            buf.put(lpad(text, imbW - 1), in: inner, col: labelW + cols + 1, row: y, style: p.fg("graph_text"))
        }
        // The hottest experts fill the rows left: one line at least, a table when there is room.
        let top = rows + 1
        guard top < inner.height else { return }
        if total == 0 {
            buf.put("no routings in this window", in: inner, row: top, style: p.dim)
            return
        }
        let itemW = 24, perLine = max(1, (inner.width - 8) / itemW)
        let lines = max(1, inner.height - top)
        buf.put("hottest", in: inner, row: top, style: p.fg("graph_text"))
        for (i, h) in load.hottest(perLine * lines).enumerated() {
            let share = Fmt.fixed(Double(h.tokens) * 100 / Double(total), 1) + "%"
            let item = pad("L\(h.layer)/\(columnLetter)\(h.expert)", 8) + lpad(Fmt.count(h.tokens), 7) + lpad(share, 7)
            buf.put(item, in: inner, col: 8 + (i % perLine) * itemW, row: top + i / perLine, style: p.fg("main_fg"))
        }
    }
}
