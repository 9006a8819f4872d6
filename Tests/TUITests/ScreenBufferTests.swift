import Testing
import Profiler
@testable import TUI

@Suite("screen buffer and chat layout")
struct ScreenBufferTests {
    @Test func putClipsAndHandlesWideCharacters() {
        var b = ScreenBuffer(width: 10, height: 2)
        #expect(b.put("héllo 東京", x: 0, y: 0) == 10)
        #expect(b.lines[0] == "héllo 東京")
        #expect(b[7, 0].glyph == "" && b[6, 0].glyph == "東")
        // A wide character that would straddle the edge is not drawn.
        #expect(b.put("abcdefghi東", x: 0, y: 1) == 9)
        #expect(b.lines[1] == "abcdefghi ")
        #expect(b.put("x", x: 0, y: 5) == 0)
        #expect(ScreenBuffer.columns(of: "e\u{301}") == 1)
        #expect(ScreenBuffer.columns(of: "👍🏽") == 2)
    }

    @Test func wrapBreaksAtSpacesAndSplitsLongWords() {
        #expect(wrap("the quick brown fox", width: 9) == ["the quick", "brown fox"])
        #expect(wrap("abcdefghijkl", width: 5) == ["abcde", "fghij", "kl"])
        #expect(wrap("a\n\nb", width: 5) == ["a", "", "b"])
        #expect(wrap("東京東京東京", width: 4) == ["東京", "東京", "東京"])
    }

    /// The chat pane alone in a buffer of `width` x `height`.
    func chat(_ s: ChatState, width: Int, height: Int) -> (ScreenBuffer, (x: Int, y: Int)?) {
        var buf = ScreenBuffer(width: width, height: height)
        let cursor = ChatPane.render(into: &buf, rect: Rect(x: 0, y: 0, width: width, height: height), theme: .builtInDefault, state: s)
        return (buf, cursor)
    }

    @Test func aPaneTooSmallForTextHasNoCursor() {
        #expect(chat(ChatState(modelName: "m"), width: 9, height: 12).1 == nil)
        #expect(chat(ChatState(modelName: "m"), width: 40, height: 4).1 == nil)
        #expect(chat(ChatState(modelName: "m"), width: 10, height: 5).1 != nil)
    }

    @Test func chatLayoutShowsTurnsInputAndCursor() {
        var s = ChatState(modelName: "SmolLM2")
        s.turns = [Turn(role: .user, text: "hi"), Turn(role: .assistant, text: "Hello! How can I help?")]
        for c in "next question" { s.insert(c) }
        s.moveCursor(-9)
        let (buf, cursor) = chat(s, width: 60, height: 12)
        let lines = buf.lines
        #expect(lines[0].contains("1 chat · SmolLM2 · ready"))
        #expect(lines[1].contains("you › hi"))
        #expect(lines[3].contains("Hello! How can I help?"))
        #expect(lines[10].contains("› next question"))
        // Inside the border, after "› ", four characters in.
        #expect(cursor?.y == 10 && cursor?.x == 1 + 2 + 4)
    }

    @Test func statusLineShowsTheMeanAcceptLength() {
        var s = ChatState(modelName: "SmolLM2")
        s.generating = true
        #expect(!chat(s, width: 60, height: 8).0.lines[0].contains("accept"))
        // Two verifications: 3 + 1 accepted drafts, so (2 + 4) / 2 tokens each.
        let t: UInt64 = 1_000
        let events = [
            Event(time: t, kind: .counter, lane: .host, metric: .specVerifies, value: 1),
            Event(time: t, kind: .counter, lane: .host, metric: .specDraftTokens, value: 7),
            Event(time: t, kind: .counter, lane: .host, metric: .specAcceptedTokens, value: 3, a: 7),
            Event(time: t + 5, kind: .counter, lane: .host, metric: .generatedTokens, value: 9),
            Event(time: t + 9, kind: .counter, lane: .host, metric: .specVerifies, value: 1),
            Event(time: t + 9, kind: .counter, lane: .host, metric: .specAcceptedTokens, value: 1, a: 7),
        ]
        s.specAcceptLength = CockpitApp.specAcceptLength(events)
        #expect(s.specAcceptLength == 3)
        #expect(chat(s, width: 60, height: 8).0.lines[0].contains("chat · SmolLM2 · generating… · accept 3.00"))
        #expect(CockpitApp.specAcceptLength(Array(events[3 ..< 4])) == nil)
    }

    @Test func scrollingKeepsTheViewWhileNewTextArrives() {
        var s = ChatState(modelName: "m")
        s.turns = (0 ..< 30).map { Turn(role: .assistant, text: "line \($0)") }
        let bottom = chat(s, width: 40, height: 10).0.lines
        #expect(bottom[5].contains("line 29"))
        s.scrollBack = 4
        let up = chat(s, width: 40, height: 10).0.lines
        #expect(up[1].contains("line 25") && !up.joined().contains("line 29"))
        s.turns.append(Turn(role: .assistant, text: "line 30"))
        s.scrollBack += 2  // the app adds the new lines to scrollBack while the user reads
        let still = chat(s, width: 40, height: 10).0.lines
        #expect(still[1].contains("line 25"))
    }

    @Test func themeFilesParseLikeBtops() {
        let t = Theme(name: "x", parsing: """
        # comment
        theme[main_bg]="#000000"
        theme[hi_fg] = "#FF8800"
        theme[unknown_key]="#123456"
        theme[title]=""
        """)
        #expect(t["main_bg"] == RGB(0, 0, 0))
        #expect(t["hi_fg"] == RGB(0xFF, 0x88, 0))
        #expect(t["title"] == nil)  // btop: empty means the terminal's default colour
        #expect(RGB(hex: "#zzzzzz") == nil)
    }
}
