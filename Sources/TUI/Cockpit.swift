import Profiler

/// Everything one cockpit frame shows: a value the app rebuilds each tick and compares with
/// the last one, so an unchanged screen is never redrawn.
public struct CockpitFrame: Sendable, Equatable {
    public var chat: ChatState
    public var shown: Set<PaneID> = Set(PaneID.allCases)
    public var events: [Event] = []
    /// Right edge of the timeline and end of the cache/expert windows (monotonic ns).
    public var now: UInt64 = 0
    public var timeline = TimelineOptions()
    public var pageSize = 16
    public var shape: ExpertShape
    public var expertWindow = ExpertWindow.seconds10
    public var helpShown = false
    public var helpScroll = 0
    /// Where the panes come from and how the connection is (nil: the in-process engine).
    public var status: String?
    /// A server's figures, for panes its events cannot fill (nil: the panes read `events`).
    public var server: ServerView?

    public init(chat: ChatState, shape: ExpertShape) {
        self.chat = chat
        self.shape = shape
    }
}

/// Lays out and draws a whole frame. Pure: the app flushes the result with `CursesTerminal`.
public enum Cockpit {
    /// The columns the chat transcript wraps at on a screen this size (nil when the chat pane is
    /// hidden or the screen is too small).
    public static func chatTextWidth(_ f: CockpitFrame, width: Int, height: Int) -> Int? {
        guard case let .panes(_, _, panes) = Layout.compute(width: width, height: height, shown: f.shown),
              let r = panes[.chat] else { return nil }
        return r.inset(1).width
    }

    public static func render(_ f: CockpitFrame, width: Int, height: Int, theme: Theme,
                              keymap: Keymap = .cockpit) -> (ScreenBuffer, (x: Int, y: Int)?) {
        var buf = ScreenBuffer(width: width, height: height)
        let p = PaneStyle(theme)
        buf.fill(x: 0, y: 0, width: width, height: height, style: p.base)
        var cursor: (x: Int, y: Int)?
        switch Layout.compute(width: width, height: height, shown: f.shown) {
        case let .tooSmall(_, _, needW, needH):
            Layout.renderTooSmall(into: &buf, needWidth: needW, needHeight: needH, keymap: keymap, theme: theme)
            return (buf, nil)
        case let .panes(header, footer, panes):
            var bar = p.fg("title", bold: true)
            bar.bg = theme["selected_bg"]
            buf.fill(x: header.x, y: header.y, width: header.width, height: 1, style: bar)
            let status = f.status.map { " · " + $0 } ?? ""
            buf.put(" ringside · \(f.chat.modelName)\(status) · theme \(theme.name)", x: 0, y: header.y, style: bar, maxWidth: header.width)
            buf.put(footerText(keymap), x: 1, y: footer.y, style: p.dim, maxWidth: footer.width - 1)
            if panes.isEmpty {
                buf.put("no panes shown: press 1-4 to show one", x: 2, y: height / 2, style: p.base)
            }
            for (pane, r) in panes.sorted(by: { $0.key < $1.key }) {
                switch pane {
                case .chat: cursor = ChatPane.render(into: &buf, rect: r, theme: theme, state: f.chat)
                case .timeline where f.server != nil: ServerPanes.timeline(into: &buf, rect: r, theme: theme, view: f.server!, now: f.now)
                case .cache where f.server != nil: ServerPanes.cache(into: &buf, rect: r, theme: theme, view: f.server!)
                case .experts where f.server != nil: ServerPanes.experts(into: &buf, rect: r, theme: theme, view: f.server!, keymap: keymap)
                case .timeline: TimelinePane.render(into: &buf, rect: r, theme: theme, events: f.events, now: f.now, options: f.timeline)
                case .cache: CachePane.render(into: &buf, rect: r, theme: theme, events: f.events, now: f.now, pageSize: f.pageSize)
                case .experts:
                    ExpertsPane.render(into: &buf, rect: r, theme: theme, events: f.events, now: f.now, shape: f.shape,
                                       window: f.expertWindow, keymap: keymap)
                }
            }
        }
        if f.helpShown {
            HelpOverlay.render(into: &buf, keymap: keymap, theme: theme, scroll: f.helpScroll)
            cursor = nil
        }
        return (buf, cursor)
    }

    /// The footer's reminder of the main keys, from the keymap (first key of each action).
    static func footerText(_ keymap: Keymap) -> String {
        let shown: [(Action, String)] = [(.help, "help"), (.cycleTheme, "theme"), (.pauseTimeline, "pause"),
                                         (.switchModel, "model"), (.quit, "quit")]
        let keys = shown.compactMap { a, name in keymap.bindings.first { $0.action == a }.map { "\($0.keys[0].label) \(name)" } }
        return (keys + ["Alt-1..4 panes"]).joined(separator: "  ")
    }
}
