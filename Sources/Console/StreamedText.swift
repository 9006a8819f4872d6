/// How `ringside generate` shows a completion as it streams: the answer on stdout; reasoning
/// dimmed in line on a terminal, or on stderr otherwise, so that piped stdout is the answer.
public struct StreamedText: Sendable {
    public let stdoutIsTerminal: Bool

    public init(stdoutIsTerminal: Bool) {
        self.stdoutIsTerminal = stdoutIsTerminal
    }

    /// What to write where for one delta of answer and reasoning text.
    public func render(text: String, reasoning: String) -> (stdout: String, stderr: String) {
        guard !reasoning.isEmpty else { return (text, "") }
        if stdoutIsTerminal { return ("\u{1B}[2m" + reasoning + "\u{1B}[0m" + text, "") }
        return (text, reasoning)
    }
}
