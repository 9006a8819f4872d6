import Foundation

/// One turn of the conversation as the cockpit shows it.
public struct Turn: Equatable, Sendable {
    public enum Role: Sendable { case user, assistant, error }
    public var role: Role
    public var text: String
    /// A thinking model's reasoning, shown dimmed above the answer while it streams and folded
    /// to one line once the answer starts (unless the user unfolds it).
    public var reasoning = ""
    public var reasoningTokens = 0
    public var reasoningFolded = false

    public init(role: Role, text: String, reasoning: String = "") {
        self.role = role
        self.text = text
        self.reasoning = reasoning
    }
}

/// Everything the chat screen shows; `ChatView.render` is a pure function of it.
public struct ChatState: Equatable, Sendable {
    public var modelName: String
    public var turns: [Turn] = []
    public var input = ""
    /// Cursor position in `input`, in characters.
    public var cursor = 0
    public var generating = false
    /// Lines scrolled up from the bottom; 0 follows new text.
    public var scrollBack = 0
    public var footer = ""

    public init(modelName: String) { self.modelName = modelName }

    public mutating func insert(_ c: Character) {
        let i = input.index(input.startIndex, offsetBy: cursor)
        input.insert(c, at: i)
        cursor += 1
    }

    public mutating func backspace() {
        guard cursor > 0 else { return }
        let i = input.index(input.startIndex, offsetBy: cursor - 1)
        input.remove(at: i)
        cursor -= 1
    }

    public mutating func deleteForward() {
        guard cursor < input.count else { return }
        input.remove(at: input.index(input.startIndex, offsetBy: cursor))
    }

    public mutating func moveCursor(_ delta: Int) { cursor = max(0, min(input.count, cursor + delta)) }
}

/// Lays the chat screen out. Pure: same state and size, same cells.
public enum ChatView {
    public static let minWidth = 40
    public static let minHeight = 8

    /// The conversation as styled lines wrapped to `width`.
    static func transcript(_ s: ChatState, width: Int, theme: Theme) -> [(String, CellStyle)] {
        let base = CellStyle(fg: theme["main_fg"], bg: theme["main_bg"])
        var lines: [(String, CellStyle)] = []
        for t in s.turns {
            var st = base
            let prefix: String
            switch t.role {
            case .user: st.fg = theme["user_fg"]; st.bold = true; prefix = "you › "
            case .assistant: st.fg = theme["assistant_fg"]; prefix = "    "
            case .error: st.fg = theme["error_fg"]; prefix = "  ! "
            }
            if !t.reasoning.isEmpty {
                var dim = base
                dim.fg = theme["thinking_fg"] ?? theme["inactive_fg"]
                dim.dim = true
                if t.reasoningFolded {
                    lines.append(("    ▸ thought for \(t.reasoningTokens) tokens", dim))
                } else {
                    for l in wrap(t.reasoning.trimmingCharacters(in: .whitespacesAndNewlines), width: width - 8) {
                        lines.append(("    │ " + l, dim))
                    }
                }
            }
            if t.role == .assistant && t.text.isEmpty && !t.reasoning.isEmpty { lines.append(("", base)); continue }
            for (i, l) in wrap(t.text, width: width - 6).enumerated() {
                lines.append(((i == 0 ? prefix : "      ") + l, st))
            }
            lines.append(("", base))
        }
        return lines
    }

    /// Lines the transcript takes at `width`: the app keeps a scrolled-up view still by adding
    /// what new text added.
    public static func transcriptLineCount(_ s: ChatState, width: Int) -> Int {
        transcript(s, width: width, theme: .builtInDefault).count
    }

    /// Returns the buffer and where the cursor goes.
    public static func render(_ s: ChatState, width: Int, height: Int, theme: Theme) -> (ScreenBuffer, (x: Int, y: Int)?) {
        var buf = ScreenBuffer(width: width, height: height)
        let base = CellStyle(fg: theme["main_fg"], bg: theme["main_bg"])
        buf.fill(x: 0, y: 0, width: width, height: height, style: base)
        guard width >= minWidth, height >= minHeight else {
            let msg = "terminal too small (\(width)x\(height)); need \(minWidth)x\(minHeight)"
            for (i, line) in wrap(msg, width: max(width, 1)).enumerated() {
                buf.put(line, x: 0, y: height / 2 + i - 1, style: base)
            }
            return (buf, nil)
        }
        var title = base
        title.fg = theme["title"]
        title.bg = theme["selected_bg"]
        title.bold = true
        buf.fill(x: 0, y: 0, width: width, height: 1, style: title)
        let status = s.generating ? "generating…" : "ready"
        buf.put(" ringside · \(s.modelName) · \(status)", x: 0, y: 0, style: title)

        let lines = transcript(s, width: width, theme: theme)
        let area = height - 4
        let maxScroll = max(0, lines.count - area)
        let scroll = min(s.scrollBack, maxScroll)
        let first = max(0, lines.count - area - scroll)
        for (row, i) in (first ..< min(lines.count, first + area)).enumerated() {
            buf.put(lines[i].0, x: 1, y: 1 + row, style: lines[i].1)
        }

        var dim = base
        dim.fg = theme["inactive_fg"]
        var line = dim
        line.fg = theme["div_line"]
        buf.put(String(repeating: "─", count: width), x: 0, y: height - 3, style: line)
        if !s.footer.isEmpty { buf.put(" \(s.footer) ", x: 2, y: height - 3, style: dim) }
        if scroll > 0 { buf.put(" ↑ \(scroll) lines ", x: width - 16, y: height - 3, style: dim) }

        // Input line, scrolled horizontally to keep the cursor visible.
        let prompt = "› "
        var hi = base
        hi.fg = theme["hi_fg"]
        buf.put(prompt, x: 1, y: height - 2, style: hi)
        let room = width - 4
        let chars = Array(s.input)
        let start = max(0, s.cursor - room + 1)
        let visible = String(chars[start ..< min(chars.count, start + room)])
        buf.put(visible, x: 3, y: height - 2, style: base)
        let cursorX = 3 + ScreenBuffer.columns(of: String(chars[start ..< s.cursor]))
        buf.put("Enter send · Esc cancel · PgUp/PgDn scroll · Ctrl-C quit", x: 1, y: height - 1, style: dim)
        return (buf, (cursorX, height - 2))
    }
}
