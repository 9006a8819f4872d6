import Engine
import Testing

@Suite("reasoning parser")
struct ReasoningParserTests {
    /// Feeds `text` in pieces of the given sizes; returns the joined reasoning and answer and
    /// every delta's pieces.
    static func run(_ style: ReasoningParser.Style, _ text: String, chunks: Int) -> (String, String, [String]) {
        var p = ReasoningParser(style: style)
        var r = "", c = "", pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            let piece = rest.prefix(chunks)
            rest = rest.dropFirst(chunks)
            let out = p.feed(String(piece))
            r += out.reasoning
            c += out.content
            pieces += [out.reasoning, out.content]
        }
        let out = p.flush()
        return (r + out.reasoning, c + out.content, pieces + [out.reasoning, out.content])
    }

    @Test(arguments: [1, 2, 3, 5, 7, 100])
    func forcedSplitsAtTheFirstEndTagWhateverTheChunking(_ n: Int) {
        let (r, c, pieces) = Self.run(.forced, "\nCarry the 1: 7+5=12</think>\n The answer is 432.</think>", chunks: n)
        #expect(r == "\nCarry the 1: 7+5=12")
        #expect(c == "The answer is 432.</think>", "only the first </think> separates")
        #expect(!pieces.contains { $0.contains("</thi") && !$0.contains("</think>") }, "no half tag in any delta")
    }

    @Test(arguments: [1, 4, 100])
    func forcedDropsAnEchoedOpeningTagAndKeepsTruncatedOutputAsReasoning(_ n: Int) {
        let echoed = Self.run(.forced, "<think>step one</think>done", chunks: n)
        #expect(echoed.0 == "step one" && echoed.1 == "done")
        let truncated = Self.run(.forced, "still thinking </thi", chunks: n)
        #expect(truncated.0 == "still thinking </thi" && truncated.1.isEmpty)
    }

    @Test(arguments: [1, 3, 100])
    func optionalNeedsAnOpeningTag(_ n: Int) {
        let plain = Self.run(.optional, "<b>no thinking</b> here", chunks: n)
        #expect(plain.0.isEmpty && plain.1 == "<b>no thinking</b> here")
        let thinking = Self.run(.optional, "\n<think>\nhmm\n</think>\n\nYes.", chunks: n)
        #expect(thinking.0 == "\nhmm\n" && thinking.1 == "Yes.", "whitespace after </think> dropped")
    }
}
