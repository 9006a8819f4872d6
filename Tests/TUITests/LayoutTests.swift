import Testing
@testable import TUI

@Suite("layout")
struct LayoutTests {
    /// Every subset of panes.
    static let subsets: [Set<PaneID>] = (0 ..< 16).map { mask in Set(PaneID.allCases.filter { mask & (1 << ($0.rawValue - 1)) != 0 }) }

    /// Every subset of panes at every size up to 240x70 (every 3rd width). Failures are
    /// collected and checked once: a #expect per rect pair would dominate the run time.
    @Test func panesNeverOverlapAndStayOnScreen() {
        var laidOut = 0, tooSmall = 0
        var failures: [String] = []
        for shown in Self.subsets {
            for w in stride(from: 0, through: 240, by: 3) {
                for h in 0 ... 70 {
                    switch Layout.compute(width: w, height: h, shown: shown) {
                    case let .panes(header, footer, panes):
                        laidOut += 1
                        let screen = Rect(x: 0, y: 0, width: w, height: h)
                        if Set(panes.keys) != shown { failures.append("\(w)x\(h) \(shown): panes \(panes.keys)") }
                        let all = [header, footer] + panes.values
                        for (i, r) in all.enumerated() {
                            if !screen.contains(r) { failures.append("\(r) outside \(w)x\(h)") }
                            for o in all[(i + 1)...] where r.intersects(o) { failures.append("\(r) overlaps \(o) at \(w)x\(h) \(shown)") }
                        }
                        for (pane, r) in panes where r.width < pane.minSize.width || r.height < pane.minSize.height {
                            failures.append("\(pane) \(r) below its minimum at \(w)x\(h)")
                        }
                    case let .tooSmall(_, _, needW, needH):
                        tooSmall += 1
                        if w >= needW && h >= needH { failures.append("claimed too small at \(w)x\(h), need \(needW)x\(needH)") }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures, first: \(failures.prefix(5))")
        #expect(laidOut > 10_000 && tooSmall > 10_000)
    }

    @Test func bigEnoughSizesAlwaysLayOut() {
        for shown in Self.subsets {
            for (w, h) in [(80, 24), (100, 30), (160, 48), (240, 70)] {
                if case .tooSmall = Layout.compute(width: w, height: h, shown: shown) { Issue.record("\(shown) does not fit \(w)x\(h)") }
            }
        }
    }

    @Test func tinySizesGetTheMessage() {
        for (w, h) in [(0, 0), (1, 1), (10, 5), (30, 6), (79, 20), (50, 12)] {
            guard case let .tooSmall(_, _, needW, needH) = Layout.compute(width: w, height: h, shown: Set(PaneID.allCases)) else {
                Issue.record("\(w)x\(h) laid out")
                continue
            }
            var buf = ScreenBuffer(width: w, height: h)
            Layout.renderTooSmall(into: &buf, needWidth: needW, needHeight: needH, keymap: .cockpit, theme: .builtInDefault)
            if w >= 30 && h >= 3 { #expect(buf.lines.joined().contains("too small")) }
        }
    }

    @Test func wideTerminalsPutChatBesideTheDashboards() {
        guard case let .panes(_, _, p) = Layout.compute(width: 160, height: 48, shown: Set(PaneID.allCases)) else {
            Issue.record("160x48 too small")
            return
        }
        #expect(p[.chat]!.x == 0 && p[.chat]!.height == 46)
        #expect(p[.timeline]!.x == p[.chat]!.maxX)
        #expect(p[.cache]!.y == p[.experts]!.y)  // side by side
        guard case let .panes(_, _, q) = Layout.compute(width: 80, height: 24, shown: Set(PaneID.allCases)) else {
            Issue.record("80x24 too small")
            return
        }
        #expect(q[.chat]!.width == 80 && q[.timeline]!.y == q[.chat]!.maxY)
    }
}
