/// Drawing helpers shared by the panes. Frames are Unicode cells rather than curses' box(),
/// so snapshots read exactly as the user sees them.
extension ScreenBuffer {
    /// Sets one cell, ignoring positions outside the buffer.
    public mutating func set(_ x: Int, _ y: Int, _ glyph: String, style: CellStyle) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        setCell(x: x, y: y, Cell(glyph: glyph, style: style))
    }

    /// A rounded frame around `rect` with `title` on the top edge (btop style: `╭─ 2 title ─╮`).
    public mutating func box(_ rect: Rect, title: String, style: CellStyle, titleStyle: CellStyle) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let (x0, y0, x1, y1) = (rect.x, rect.y, rect.maxX - 1, rect.maxY - 1)
        for x in x0 + 1 ..< x1 {
            set(x, y0, "─", style: style)
            set(x, y1, "─", style: style)
        }
        for y in y0 + 1 ..< y1 {
            set(x0, y, "│", style: style)
            set(x1, y, "│", style: style)
        }
        set(x0, y0, "╭", style: style)
        set(x1, y0, "╮", style: style)
        set(x0, y1, "╰", style: style)
        set(x1, y1, "╯", style: style)
        if !title.isEmpty, rect.width > 6 {
            put(" \(title) ", x: x0 + 2, y: y0, style: titleStyle, maxWidth: rect.width - 4)
        }
    }

    /// Text clipped to `rect`'s row `row` (relative), starting at column `col` (relative).
    @discardableResult
    public mutating func put(_ text: String, in rect: Rect, col: Int = 0, row: Int, style: CellStyle) -> Int {
        guard row >= 0, row < rect.height, col < rect.width else { return 0 }
        return put(text, x: rect.x + col, y: rect.y + row, style: style, maxWidth: rect.width - col)
    }
}
