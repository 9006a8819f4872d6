import Foundation
import Profiler
import Testing
@testable import TUI

/// Every pane drawn from synthetic profiler streams and chat state, at 80x24 and 160x48,
/// compared with the committed text in Snapshots/.
@Suite("pane snapshots")
struct PaneSnapshotTests {
    static let sizes = [(80, 24), (160, 48)]
    let theme = Theme.builtInDefault

    static func chatState() -> ChatState {
        var s = ChatState(modelName: "Qwen3-0.6B")
        s.turns = [
            Turn(role: .user, text: "What is the capital of France?"),
            Turn(role: .assistant, text: "The capital of France is Paris. It has been the seat of government since the 10th century, apart from a few interruptions."),
            Turn(role: .user, text: "And of Italy?"),
            Turn(role: .assistant, text: "Rome."),
        ]
        s.footer = "6 tokens · 41 t/s · prompt 28 tokens at 380 t/s"
        for c in "and Spain" { s.insert(c) }
        return s
    }

    func pane(_ w: Int, _ h: Int, _ draw: (inout ScreenBuffer, Rect) -> Void) -> ScreenBuffer {
        var buf = ScreenBuffer(width: w, height: h)
        draw(&buf, Rect(x: 0, y: 0, width: w, height: h))
        return buf
    }

    @Test(arguments: sizes) func timeline(w: Int, h: Int) {
        let (events, end) = Synthetic.pipeline()
        let buf = pane(w, h) { TimelinePane.render(into: &$0, rect: $1, theme: theme, events: events, now: end + 200_000) }
        Snapshot.check(buf, "timeline-\(w)x\(h)")
    }

    @Test func timelinePausedAndZoomed() {
        let (events, end) = Synthetic.pipeline()
        let options = TimelineOptions(windowNanos: 5_000_000, paused: true)
        let buf = pane(80, 12) { TimelinePane.render(into: &$0, rect: $1, theme: theme, events: events, now: end, options: options) }
        Snapshot.check(buf, "timeline-paused-5ms-80x12")
        #expect(buf.lines[0].contains("⏸ paused"))
    }

    @Test(arguments: sizes) func cache(w: Int, h: Int) {
        let (events, end) = Synthetic.cache()
        let buf = pane(w, h) { CachePane.render(into: &$0, rect: $1, theme: theme, events: events, now: end, pageSize: 16) }
        Snapshot.check(buf, "cache-\(w)x\(h)")
    }

    @Test(arguments: sizes) func experts(w: Int, h: Int) {
        let (events, end) = Synthetic.experts()
        let shape = ExpertShape(modelName: "tiny-moe", layers: 8, experts: 32)
        let buf = pane(w, h) { ExpertsPane.render(into: &$0, rect: $1, theme: theme, events: events, now: end, shape: shape, window: .all) }
        Snapshot.check(buf, "experts-\(w)x\(h)")
    }

    @Test func expertsBucketsWhenTheGridDoesNotFit() {
        let (events, end) = Synthetic.experts(layers: 48, experts: 128)
        let shape = ExpertShape(modelName: "big-moe", layers: 48, experts: 128)
        let buf = pane(80, 24) { ExpertsPane.render(into: &$0, rect: $1, theme: theme, events: events, now: end, shape: shape, window: .seconds10) }
        Snapshot.check(buf, "experts-bucketed-80x24")
    }

    @Test(arguments: sizes) func expertsDense(w: Int, h: Int) {
        let shape = ExpertShape(modelName: "SmolLM2-135M", layers: 30, experts: 0)
        let buf = pane(w, h) { ExpertsPane.render(into: &$0, rect: $1, theme: theme, events: [], now: 0, shape: shape, window: .all) }
        Snapshot.check(buf, "experts-dense-\(w)x\(h)")
        #expect(buf.lines.joined().contains("dense model"))
        #expect(buf.lines.joined().contains(Keymap.cockpit.label(for: .switchModel)))
    }

    @Test(arguments: sizes) func chat(w: Int, h: Int) {
        var cursor: (x: Int, y: Int)?
        let buf = pane(w, h) { cursor = ChatPane.render(into: &$0, rect: $1, theme: theme, state: Self.chatState()) }
        Snapshot.check(buf, "chat-\(w)x\(h)")
        #expect(cursor?.y == h - 2 && cursor?.x == 3 + "and Spain".count)
    }

    @Test(arguments: sizes) func wholeCockpit(w: Int, h: Int) {
        let (pipe, end) = Synthetic.pipeline()
        let (moe, _) = Synthetic.experts()
        var f = CockpitFrame(chat: Self.chatState(), shape: ExpertShape(modelName: "tiny-moe", layers: 8, experts: 32))
        // Expert routings shifted to end with the pipeline, so one `now` serves every pane.
        f.events = pipe.map { var e = $0; e.time += 20_000_000_000; return e } + moe
        f.now = end + 20_000_000_000 + 200_000
        f.expertWindow = .all
        let (buf, cursor) = Cockpit.render(f, width: w, height: h, theme: theme)
        Snapshot.check(buf, "cockpit-\(w)x\(h)")
        #expect(cursor != nil)
    }

    @Test func helpOverlayOverTheCockpit() {
        var f = CockpitFrame(chat: Self.chatState(), shape: ExpertShape(modelName: "m", layers: 1, experts: 0))
        f.helpShown = true
        let (buf, cursor) = Cockpit.render(f, width: 80, height: 24, theme: theme)
        Snapshot.check(buf, "help-80x24")
        #expect(cursor == nil)
    }

    @Test func tooSmallSaysSo() {
        let f = CockpitFrame(chat: Self.chatState(), shape: ExpertShape(modelName: "m", layers: 1, experts: 0))
        let (buf, _) = Cockpit.render(f, width: 50, height: 12, theme: theme)
        Snapshot.check(buf, "too-small-50x12")
        #expect(buf.lines.joined().contains("terminal too small: 50x12"))
    }

    @Test func timelineColoursBatchesByKind() {
        let (events, end) = Synthetic.pipeline()
        let buf = pane(160, 12) { TimelinePane.render(into: &$0, rect: $1, theme: theme, events: events, now: end + 200_000,
                                                      options: TimelineOptions(windowNanos: 50_000_000)) }
        // Device lane is the third interior row (after host labels and host).
        let y = 3
        let cells = (0 ..< 160).map { buf[$0, y] }.filter { $0.glyph != " " }
        let colors = Set(cells.compactMap(\.style.fg) + cells.compactMap(\.style.bg))
        for kind in [SpanKind.prefill, .decode, .mixed, .idle] {
            #expect(colors.contains(theme["batch_\(kind)"]!), "no \(kind) cell on the device lane")
        }
    }

    @Test func laneRendererPlacesEdgesWithinACell() {
        // 4 columns of 8 ns: a span from 4 to 20 ns covers half of column 0, all of column 1,
        // half of column 2.
        var lane = LaneRenderer(columns: 4, origin: 0, nanosPerColumn: 8)
        lane.add(0, start: 4, end: 20)
        var buf = ScreenBuffer(width: 4, height: 1)
        let red = RGB(255, 0, 0)
        lane.draw(into: &buf, x: 0, y: 0, base: CellStyle()) { _ in red }
        #expect(buf.lines[0] == "▌█▌ ")
        #expect(buf[0, 0].style.reverse && !buf[2, 0].style.reverse)  // empty-then-full is drawn reversed
        // A span shorter than a slot still shows.
        var tiny = LaneRenderer(columns: 4, origin: 0, nanosPerColumn: 8)
        tiny.add(0, start: 9, end: 9)
        var b2 = ScreenBuffer(width: 4, height: 1)
        tiny.draw(into: &b2, x: 0, y: 0, base: CellStyle()) { _ in red }
        #expect(b2.lines[0] != "    ")
    }

    @Test func brailleGraphFillsFromTheBottom() {
        #expect(Glyphs.braille([1, 1], width: 1, height: 1) == ["⣿"])
        #expect(Glyphs.braille([0.25, 0.5], width: 1, height: 1) == ["⣠"])
        #expect(Glyphs.braille([nil, 1], width: 2, height: 1) == ["⠀⢸"])  // newest at the right
        #expect(Glyphs.braille([1.0, 0.5], width: 1, height: 2) == ["⡇", "⣿"])
        #expect(Glyphs.bar(0.5, width: 3) == ["█", "▌", " "])
    }

    @Test func cacheStatsFromEvents() {
        let (events, end) = Synthetic.cache()
        let s = CacheStats(events, now: end, windows: 10, pageSize: 16)
        #expect(s.hitRateSeries.count == 10)
        #expect(s.kvPagesTotal == 1024 && s.kvPagesUsed == 300 + 239 * 2)
        #expect(s.cachedTokens == Int64(40 + 239) * 16)
        #expect(s.evictedTokens == 6 * 256)
        let lastQuery = Double(400 + (239 % 5) * 40)
        #expect(s.lastRequestHitRate == Double(min(Int64(lastQuery) * 9 / 10, Int64(lastQuery) * 239 / 240 + Int64((239 * 13) % 50))) / lastQuery)
    }
}

extension PaneSnapshotTests {
    /// The width the app wraps streamed text at (to keep a scrolled-back view still) is the width
    /// the chat pane draws at: every transcript line wrapped at it appears on screen as drawn.
    @Test(arguments: [(80, 24), (120, 40), (160, 48), (230, 60)])
    func chatTextWidthIsTheDrawnWidth(w: Int, h: Int) throws {
        var chat = ChatState(modelName: "m")
        chat.turns = [Turn(role: .user, text: "Tell me a long story."),
                      Turn(role: .assistant, text: String(repeating: "0123456789", count: 30))]
        let f = CockpitFrame(chat: chat, shape: ExpertShape(modelName: "m", layers: 1, experts: 0))
        let width = try #require(Cockpit.chatTextWidth(f, width: w, height: h))
        let (buf, _) = Cockpit.render(f, width: w, height: h, theme: theme)
        let screen = buf.lines.joined(separator: "\n")
        // The lines that fit above the divider and the input line; the rest is scrolled away.
        guard case let .panes(_, _, panes) = Layout.compute(width: w, height: h, shown: f.shown), let rect = panes[.chat] else {
            Issue.record("no chat pane at \(w)x\(h)")
            return
        }
        let visible = ChatView.transcript(chat, width: width, theme: theme).map(\.0).suffix(rect.height - 4)
        let wrapped = visible.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(wrapped.count >= 2)
        for line in wrapped { #expect(screen.contains(line), "\(w)x\(h): \"\(line)\" not drawn as such") }
        // One word of 300 characters breaks at the width itself: one column less draws differently.
        let narrower = ChatView.transcript(chat, width: width - 1, theme: theme).map(\.0)
        #expect(narrower.contains { !$0.isEmpty && !screen.contains($0) })
    }
}
