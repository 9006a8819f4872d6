/// The `?`/F1 overlay: a framed list generated from the keymap, one line per action, merging
/// the global and pane-scoped keys of the same action onto one line.
public enum HelpOverlay {
    /// (keys, what they do, only outside the chat input) per action, in keymap order.
    public static func lines(_ keymap: Keymap) -> [(keys: String, help: String)] {
        var order: [Action] = []
        var keys: [Action: [String]] = [:]
        var help: [Action: String] = [:]
        for b in keymap.bindings {
            if keys[b.action] == nil { order.append(b.action) }
            keys[b.action, default: []] += b.keys.map(\.label)
            help[b.action] = help[b.action] ?? b.help
        }
        return order.map { (keys[$0]!.joined(separator: " "), help[$0]!) }
    }

    /// Lines that fit below the title at this screen height: what one page scrolls by.
    public static func pageSize(height: Int) -> Int { max(1, min(height, 40) - 4) }

    /// Draws the overlay centred on `buf`, starting at line `scroll` (clamped).
    /// Returns the scroll actually used, so the app can clamp its own state.
    @discardableResult
    public static func render(into buf: inout ScreenBuffer, keymap: Keymap, theme: Theme, scroll: Int = 0) -> Int {
        let all = lines(keymap)
        let keyCol = min(24, all.map { ScreenBuffer.columns(of: $0.keys) }.max() ?? 0)
        let w = min(buf.width, 78), h = min(buf.height, all.count + 4, 40)
        guard w >= 20, h >= 5 else {
            buf.put("help: enlarge the terminal", x: 0, y: 0, style: CellStyle(fg: theme["title"], bg: theme["main_bg"]))
            return 0
        }
        let rect = Rect(x: (buf.width - w) / 2, y: (buf.height - h) / 2, width: w, height: h)
        let base = CellStyle(fg: theme["main_fg"], bg: theme["selected_bg"])
        buf.fill(x: rect.x, y: rect.y, width: rect.width, height: rect.height, style: base)
        var frame = base
        frame.fg = theme["hi_fg"]
        var title = base
        title.fg = theme["title"]
        title.bold = true
        buf.box(rect, title: "help · ? F1 Esc close", style: frame, titleStyle: title)
        let inner = rect.inset(1)
        let rows = inner.height - 1
        let top = max(0, min(scroll, all.count - rows))
        var keyStyle = base
        keyStyle.fg = theme["hi_fg"]
        keyStyle.bold = true
        for (i, line) in all.dropFirst(top).prefix(rows).enumerated() {
            buf.put(line.keys, in: inner, col: 1, row: i, style: keyStyle)
            buf.put(line.help, in: inner, col: keyCol + 3, row: i, style: base)
        }
        var dim = base
        dim.fg = theme["inactive_fg"]
        let more = top + rows < all.count ? "↓ PgDn for more" : top > 0 ? "↑ PgUp" : ""
        buf.put("letter and digit keys work when the chat input is not focused  \(more)",
                in: inner, col: 1, row: inner.height - 1, style: dim)
        return top
    }
}
