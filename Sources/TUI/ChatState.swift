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

/// Everything the chat pane shows; `ChatPane.render` is a pure function of it.
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
    /// Speculative decoding's mean accept length (tokens per verification) over the events the
    /// panes show; nil when nothing was verified there.
    public var specAcceptLength: Double?

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

/// The transcript as wrapped, styled lines. Pure: same state and width, same lines.
public enum ChatView {
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
}
