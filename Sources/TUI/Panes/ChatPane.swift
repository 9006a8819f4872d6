import Foundation

/// The chat as one pane of the cockpit: the transcript, a divider with the last answer's
/// speed, and the input line.
public enum ChatPane {
    /// Draws into `rect`; returns where the text cursor goes (nil when the pane is too small).
    @discardableResult
    public static func render(into buf: inout ScreenBuffer, rect: Rect, theme: Theme, state s: ChatState) -> (x: Int, y: Int)? {
        let p = PaneStyle(theme)
        var status = s.generating ? "generating…" : "ready"
        if let a = s.specAcceptLength { status += String(format: " · accept %.2f", a) }
        let inner = p.frame(&buf, rect, pane: .chat, boxKey: "chat_box", title: "chat · \(s.modelName) · \(status)")
        guard inner.width >= 8, inner.height >= 3 else { return nil }
        let lines = ChatView.transcript(s, width: inner.width, theme: theme)
        let area = inner.height - 2
        let scroll = min(s.scrollBack, max(0, lines.count - area))
        let first = max(0, lines.count - area - scroll)
        for (row, i) in (first ..< min(lines.count, first + area)).enumerated() {
            buf.put(lines[i].0, in: inner, row: row, style: lines[i].1)
        }
        let divY = inner.maxY - 2
        buf.put(String(repeating: "─", count: inner.width), x: inner.x, y: divY, style: p.fg("div_line"))
        if !s.footer.isEmpty { buf.put(" \(s.footer) ", x: inner.x + 1, y: divY, style: p.dim, maxWidth: inner.width - 2) }
        if scroll > 0 { buf.put(" ↑ \(scroll) ", x: inner.maxX - 8, y: divY, style: p.dim) }
        buf.put("› ", x: inner.x, y: inner.maxY - 1, style: p.fg("hi_fg"))
        let room = max(1, inner.width - 3)
        let chars = Array(s.input)
        let cursor = min(s.cursor, chars.count)
        let start = max(0, cursor - room + 1)
        buf.put(String(chars[start ..< min(chars.count, start + room)]), x: inner.x + 2, y: inner.maxY - 1, style: p.base)
        return (inner.x + 2 + ScreenBuffer.columns(of: String(chars[start ..< cursor])), inner.maxY - 1)
    }
}
