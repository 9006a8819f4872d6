/// Splits a thinking model's streamed output into reasoning and answer, as SGLang's
/// reasoning parsers do.
///
/// `.forced` is SGLang's `deepseek-r1` behaviour, right for templates that open `<think>`
/// themselves (Ring 2.0): everything before the first `</think>` is reasoning, an echoed
/// leading `<think>` is dropped, and output cut off before `</think>` is all reasoning.
/// `.optional` is the `qwen3` behaviour: reasoning only between a leading `<think>` and
/// `</think>`. A tag split across deltas is held back until it is resolved, so no delta ever
/// shows half a tag. Whitespace between `</think>` and the answer is dropped, as SGLang's
/// non-streaming parse strips the answer, so streamed and whole answers read the same.
public struct ReasoningParser: Sendable {
    public enum Style: String, Sendable { case forced, optional }

    public let style: Style
    public let start: String
    public let end: String
    private var inReasoning: Bool
    /// Still before any answer text: a `<think>` here opens (or, forced, is dropped).
    private var atStart = true
    private var held = ""
    /// Just past `</think>`: leading whitespace of the answer is dropped.
    private var answerStart = false

    public init(style: Style, start: String = "<think>", end: String = "</think>") {
        self.style = style
        self.start = start
        self.end = end
        inReasoning = style == .forced
    }

    /// Feeds new output text; returns what can be shown now.
    public mutating func feed(_ text: String) -> (reasoning: String, content: String) {
        held += text
        var reasoning = "", content = ""
        while !held.isEmpty {
            if atStart {
                let trimmed = held.drop { $0.isWhitespace }
                if trimmed.hasPrefix(start) {
                    held = String(trimmed.dropFirst(start.count))
                    inReasoning = true
                    atStart = false
                    continue
                }
                // Could still become `<think>`: wait for more.
                if !trimmed.isEmpty && start.hasPrefix(trimmed) { break }
                if trimmed.isEmpty { break }
                atStart = false
            }
            if inReasoning {
                if let r = held.range(of: end) {
                    reasoning += held[..<r.lowerBound]
                    held = String(held[r.upperBound...])
                    inReasoning = false
                    answerStart = true
                    continue
                }
                let keep = Self.partialSuffix(of: held, prefixOf: end)
                reasoning += held.dropLast(keep)
                held = String(held.suffix(keep))
                break
            }
            if answerStart {
                held = String(held.drop { $0.isWhitespace })
                if held.isEmpty { break }
                answerStart = false
            }
            content += held
            held = ""
        }
        return (reasoning, content)
    }

    /// The end of the stream: whatever was held back goes out as what it was.
    public mutating func flush() -> (reasoning: String, content: String) {
        defer { held = "" }
        if inReasoning || (atStart && style == .forced) { return (held, "") }
        return ("", held)
    }

    /// Length of the longest suffix of `s` that is a proper prefix of `tag`.
    static func partialSuffix(of s: String, prefixOf tag: String) -> Int {
        var n = min(s.count, tag.count - 1)
        while n > 0 {
            if tag.hasPrefix(s.suffix(n)) { return n }
            n -= 1
        }
        return 0
    }
}
