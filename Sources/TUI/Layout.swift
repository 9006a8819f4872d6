/// The cockpit's panes, numbered as their toggle keys.
public enum PaneID: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case chat = 1, timeline, cache, experts

    public static func < (a: PaneID, b: PaneID) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .chat: "chat"
        case .timeline: "timeline"
        case .cache: "prefix cache"
        case .experts: "experts"
        }
    }

    /// Smallest size the pane still draws legibly in, frame included.
    public var minSize: (width: Int, height: Int) {
        switch self {
        case .chat: (36, 6)
        case .timeline: (40, 7)
        case .cache: (30, 6)
        case .experts: (30, 6)
        }
    }

    /// Share of spare rows the pane takes: the chat and timeline grow first.
    var weight: Int { self == .cache ? 2 : 3 }
}

/// Where everything goes for one terminal size: a pure function of the size and the shown
/// panes, so resizing is just calling it again, and tests can check thousands of sizes.
public enum Layout: Equatable, Sendable {
    /// Header row, footer row, and a rect per shown pane.
    case panes(header: Rect, footer: Rect, panes: [PaneID: Rect])
    /// The panes do not fit: say so instead of drawing a broken screen.
    case tooSmall(width: Int, height: Int, needWidth: Int, needHeight: Int)

    /// Columns from which the chat sits left of the dashboards instead of above them.
    public static let sideBySideWidth = 120

    public static func compute(width: Int, height: Int, shown: Set<PaneID>) -> Layout {
        let header = Rect(x: 0, y: 0, width: width, height: 1)
        let footer = Rect(x: 0, y: height - 1, width: width, height: 1)
        let dash = [PaneID.timeline, .cache, .experts].filter(shown.contains)
        let chat = shown.contains(.chat)
        // Side by side: chat column on the left, dashboards stacked on the right.
        if chat, !dash.isEmpty, width >= sideBySideWidth {
            let chatW = max(PaneID.chat.minSize.width, width * 2 / 5)
            let right = Rect(x: chatW, y: 1, width: width - chatW, height: height - 2)
            let rows = stackRows(dash, width: right.width)
            let need = needed(rows)
            if height - 2 >= max(need.height, PaneID.chat.minSize.height), right.width >= need.width {
                var panes = place(rows, in: right)
                panes[.chat] = Rect(x: 0, y: 1, width: chatW, height: height - 2)
                return .panes(header: header, footer: footer, panes: panes)
            }
        }
        let rows = (chat ? [[PaneID.chat]] : []) + stackRows(dash, width: width)
        let need = needed(rows)
        let needW = max(need.width, 20), needH = need.height + 2
        guard width >= needW, height >= needH else {
            return .tooSmall(width: width, height: height, needWidth: needW, needHeight: needH)
        }
        return .panes(header: header, footer: footer, panes: place(rows, in: Rect(x: 0, y: 1, width: width, height: height - 2)))
    }

    /// Dashboards as rows: the timeline alone (it wants width), cache and experts together
    /// when the width allows both.
    static func stackRows(_ dash: [PaneID], width: Int) -> [[PaneID]] {
        var rows: [[PaneID]] = dash.contains(.timeline) ? [[.timeline]] : []
        let small = dash.filter { $0 != .timeline }
        let pairW = small.reduce(0) { $0 + $1.minSize.width }
        if small.count == 2 && width >= pairW { rows.append(small) } else { rows += small.map { [$0] } }
        return rows
    }

    static func needed(_ rows: [[PaneID]]) -> (width: Int, height: Int) {
        (rows.map { $0.reduce(0) { $0 + $1.minSize.width } }.max() ?? 0,
         rows.reduce(0) { $0 + ($1.map(\.minSize.height).max() ?? 0) })
    }

    /// Gives each row its minimum height, spreads the spare rows by weight (the remainder to
    /// the first rows), and splits each row's width evenly.
    static func place(_ rows: [[PaneID]], in area: Rect) -> [PaneID: Rect] {
        guard !rows.isEmpty else { return [:] }
        let mins = rows.map { $0.map(\.minSize.height).max() ?? 0 }
        let weights = rows.map { $0.map(\.weight).max() ?? 1 }
        let spare = max(0, area.height - mins.reduce(0, +))
        let total = max(1, weights.reduce(0, +))
        var extra = weights.map { spare * $0 / total }
        for i in 0 ..< (spare - extra.reduce(0, +)) { extra[i % extra.count] += 1 }
        var out: [PaneID: Rect] = [:]
        var y = area.y
        for (i, row) in rows.enumerated() {
            let h = mins[i] + extra[i]
            var x = area.x
            for (j, pane) in row.enumerated() {
                let w = j == row.count - 1 ? area.maxX - x : area.width / row.count
                out[pane] = Rect(x: x, y: y, width: w, height: h)
                x += w
            }
            y += h
        }
        return out
    }

    /// The message drawn instead of panes that do not fit (btop's wording, more or less).
    public static func renderTooSmall(into buf: inout ScreenBuffer, needWidth: Int, needHeight: Int, keymap: Keymap, theme: Theme) {
        let base = CellStyle(fg: theme["main_fg"], bg: theme["main_bg"])
        buf.fill(x: 0, y: 0, width: buf.width, height: buf.height, style: base)
        var hi = base
        hi.fg = theme["hi_fg"]
        hi.bold = true
        let toggles = PaneID.allCases.map { keymap.label(for: toggleAction($0)) }.joined(separator: ", ")
        let text: [(String, CellStyle)] = [
            ("terminal too small: \(buf.width)x\(buf.height)", hi),
            ("need \(needWidth)x\(needHeight) for the panes shown", base),
            ("hide panes with \(toggles)", base),
        ]
        let wrapped = text.flatMap { line in wrap(line.0, width: max(1, buf.width)).map { ($0, line.1) } }
        let top = max(0, (buf.height - wrapped.count) / 2)
        for (i, (line, style)) in wrapped.enumerated() {
            buf.put(line, x: max(0, (buf.width - ScreenBuffer.columns(of: line)) / 2), y: top + i, style: style)
        }
    }

    public static func toggleAction(_ pane: PaneID) -> Action {
        switch pane {
        case .chat: .toggleChat
        case .timeline: .toggleTimeline
        case .cache: .toggleCache
        case .experts: .toggleExperts
        }
    }
}
