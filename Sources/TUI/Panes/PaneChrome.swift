import Profiler

/// The styles every pane derives from the theme, so panes agree on what "dim" or "title" is.
struct PaneStyle {
    let theme: Theme
    let base: CellStyle

    init(_ theme: Theme) {
        self.theme = theme
        base = CellStyle(fg: theme["main_fg"], bg: theme["main_bg"])
    }

    func fg(_ key: String, bold: Bool = false) -> CellStyle {
        var s = base
        s.fg = theme[key]
        s.bold = bold
        return s
    }

    func fg(_ color: RGB?) -> CellStyle {
        var s = base
        s.fg = color
        return s
    }

    var dim: CellStyle { fg("inactive_fg") }
    var label: CellStyle { fg("graph_text") }
    var title: CellStyle { fg("title", bold: true) }

    /// Fills `rect`, frames it in the pane's box colour and returns the interior.
    func frame(_ buf: inout ScreenBuffer, _ rect: Rect, pane: PaneID, boxKey: String, title: String) -> Rect {
        buf.fill(x: rect.x, y: rect.y, width: rect.width, height: rect.height, style: base)
        buf.box(rect, title: "\(pane.rawValue) \(title)", style: fg(boxKey), titleStyle: self.title)
        return rect.inset(1)
    }

    /// The colour of a batch kind on the timeline.
    func color(_ kind: SpanKind) -> RGB? { theme["batch_" + kind.description] }
}
