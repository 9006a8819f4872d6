import Engine
import Foundation
import Profiler

/// The cockpit: chat with the model while the timeline, prefix-cache and experts panes show
/// what the engine does. All curses calls happen on the calling thread; the panes and the
/// chat come from a `CockpitSource` (the in-process engine or a server over the network),
/// which is only asked for new events, status and answer streams.
public final class CockpitApp {
    var source: any CockpitSource
    var themes: ThemeCatalog
    var theme: Theme
    let keymap = Keymap.cockpit
    var frame: CockpitFrame
    var messages: [ChatMessage] = []
    var stream: ChatStream?
    var chatFocused = true
    var picker: ModelPicker?
    /// Events of the last couple of minutes, oldest first.
    var events: [Event] = []
    var liveNow: UInt64 = 0
    /// Sent inputs, oldest first; Up and Down walk them in the input line.
    var history: [String] = []
    var historyIndex: Int?
    /// The terminal's size at the last frame: streamed text is wrapped at the chat pane's width.
    var screen = (width: 80, height: 24)
    /// Asked every tick; true ends `run` (the server around the cockpit is stopping).
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Whether SIGTERM restores the terminal and exits; off when a server handles SIGTERM.
    public var exitOnSIGTERM = true

    public init(source: any CockpitSource, themes: ThemeCatalog, theme: Theme) {
        self.source = source
        self.themes = themes
        self.theme = theme
        frame = CockpitFrame(chat: ChatState(modelName: source.modelName), shape: source.shape)
        frame.pageSize = source.pageSize
        if !source.canChat {
            frame.shown.remove(.chat)
            chatFocused = false
        }
        _ = source.poll()
    }

    /// The in-process cockpit of `ringside chat`: an engine the cockpit owns, and a loader for
    /// the model picker.
    public convenience init(engine: Engine, modelName: String, themes: ThemeCatalog, theme: Theme,
                            loader: @escaping EngineSource.Loader) {
        self.init(source: EngineSource(engine: engine, modelName: modelName, loader: loader, owned: true),
                  themes: themes, theme: theme)
    }

    public func run() {
        let term = CursesTerminal(noColor: ProcessInfo.processInfo.environment["NO_COLOR"] != nil)
        defer {
            stream?.cancel()
            term.close()
            source.close()
        }
        installSignalRestore()
        var last: (CockpitFrame, Int, Int, String)?
        var lastDraw = Date.distantPast
        while !shouldStop() {
            // readKey waits up to 33 ms: the loop ticks at most ~30 times a second.
            while let key = term.readKey() {
                if !handle(key) { return }
            }
            _ = term.pollResize()
            screen = (term.width, term.height)
            pump()
            checkPicker()
            let state = (frame, term.width, term.height, theme.name)
            if let l = last, l.0 == state.0, l.1 == state.1, l.2 == state.2, l.3 == state.3 { continue }
            if Date().timeIntervalSince(lastDraw) < 1.0 / 30 { continue }
            var (buf, cur) = Cockpit.render(frame, width: term.width, height: term.height, theme: theme, keymap: keymap)
            if let p = picker { p.render(into: &buf, theme: theme); cur = nil }
            term.flush(buf, cursor: chatFocused ? cur : nil)
            last = state
            lastDraw = Date()
        }
    }

    /// Moves new events and streamed text into the frame.
    func pump() {
        let fresh = source.poll()
        if !fresh.isEmpty {
            events += fresh
            let horizon = (events.last?.time ?? 0) &- 120_000_000_000
            if let cut = events.firstIndex(where: { $0.time >= horizon }), cut > 0 { events.removeFirst(cut) }
            if events.count > 150_000 { events.removeFirst(events.count - 150_000) }
        }
        if !frame.timeline.paused {
            liveNow = Recorder.now()
            frame.now = liveNow
            // The panes look back at most a minute; a bounded slice keeps each frame cheap.
            let from = liveNow &- 60_000_000_000
            let start = events.firstIndex { $0.time >= from } ?? events.count
            let slice = Array(events[start...].suffix(40_000))
            if slice != frame.events {
                frame.events = slice
                let accept = Self.specAcceptLength(slice)
                if accept != frame.chat.specAcceptLength { frame.chat.specAcceptLength = accept }
            }
        }
        let status = source.status
        if status != frame.status { frame.status = status }
        let server = source.server
        if server != frame.server { frame.server = server }
        // A server names its model and shape once it answers.
        let name = source.modelName, shape = source.shape
        if name != frame.chat.modelName { frame.chat.modelName = name }
        if shape != frame.shape { frame.shape = shape }
        if source.pageSize != frame.pageSize { frame.pageSize = source.pageSize }
        drainStream()
    }

    /// Tokens per verification over `events` (the speculative counters only, so the slice is
    /// not summed whole every frame).
    static func specAcceptLength(_ events: [Event]) -> Double? {
        var verifies: Int64 = 0, accepted: Int64 = 0
        for e in events where e.kind == .counter {
            if e.metric == .specVerifies { verifies += e.value } else if e.metric == .specAcceptedTokens { accepted += e.value }
        }
        return verifies > 0 ? Double(verifies + accepted) / Double(verifies) : nil
    }

    func drainStream() {
        guard let s = stream else { return }
        let u = s.take()
        guard !u.text.isEmpty || !u.reasoning.isEmpty || u.done || u.tokens > 0 else { return }
        var turns = frame.chat.turns
        let i = turns.count - 1
        // Scrolled back, the view stays on the same lines while the answer grows below them.
        let width = Cockpit.chatTextWidth(frame, width: screen.width, height: screen.height) ?? 80
        let before = frame.chat.scrollBack > 0 ? ChatView.transcriptLineCount(frame.chat, width: width) : 0
        turns[i].reasoning += u.reasoning
        if !u.reasoning.isEmpty { turns[i].reasoningTokens += u.tokens }
        // The answer has started: fold the reasoning to one line.
        if !u.text.isEmpty && turns[i].text.isEmpty && !turns[i].reasoning.isEmpty { turns[i].reasoningFolded = true }
        turns[i].text += u.text
        frame.chat.turns = turns
        if frame.chat.scrollBack > 0 { frame.chat.scrollBack += ChatView.transcriptLineCount(frame.chat, width: width) - before }
        if let (usage, timings) = u.finished {
            let decode = timings.total - timings.firstToken
            let tps = usage.completionTokens > 1 && decode > 0 ? Double(usage.completionTokens - 1) / decode : 0
            frame.chat.footer = String(format: "%.0f t/s · TTFT %.0f ms · %d/%d prompt tokens cached", tps,
                                       timings.firstToken * 1000, usage.cachedPromptTokens, usage.promptTokens)
        }
        if u.done {
            stream = nil
            frame.chat.generating = false
            if let f = u.failure {
                if f != "cancelled" { frame.chat.turns.append(Turn(role: .error, text: f)) }
                messages.removeLast()
            } else {
                messages.append(ChatMessage(role: "assistant", content: frame.chat.turns[i].text))
            }
        }
    }

    /// Returns false to quit.
    func handle(_ key: Key) -> Bool {
        if picker != nil { return handlePicker(key) }
        if frame.helpShown {
            switch key {
            case .up: frame.helpScroll = max(0, frame.helpScroll - 1)
            case .down: frame.helpScroll += 1
            case .pageUp: frame.helpScroll = max(0, frame.helpScroll - 10)
            case .pageDown: frame.helpScroll += 10
            default: frame.helpShown = false
            }
            return true
        }
        if key == .ctrl("c") {
            if let s = stream { s.cancel(); return true }
            return false
        }
        if let action = keymap.action(for: key, typing: chatFocused) { return perform(action) }
        guard chatFocused else { return true }
        var c = frame.chat
        switch key {
        case .enter: send(); return true
        case .backspace: c.backspace()
        case .delete: c.deleteForward()
        case .left: c.moveCursor(-1)
        case .right: c.moveCursor(1)
        case .home, .ctrl("a"): c.cursor = 0
        case .end, .ctrl("e"): c.cursor = c.input.count
        case .ctrl("u"): c.input = ""; c.cursor = 0
        case .up, .down:
            guard !history.isEmpty else { break }
            let i = key == .up ? max(0, (historyIndex ?? history.count) - 1) : (historyIndex ?? history.count) + 1
            historyIndex = i < history.count ? i : nil
            c.input = historyIndex.map { history[$0] } ?? ""
            c.cursor = c.input.count
        case .ctrl("d") where c.input.isEmpty && stream == nil: return false
        case .char(let ch): c.insert(ch)
        default: break
        }
        frame.chat = c
        return true
    }

    func perform(_ action: Action) -> Bool {
        switch action {
        case .quit: return false
        case .help: frame.helpShown.toggle(); frame.helpScroll = 0
        case .cancel: stream?.cancel()
        case .redraw: frame.now &+= 1
        case .toggleChat: if source.canChat { toggle(.chat) }
        case .toggleTimeline: toggle(.timeline)
        case .toggleCache: toggle(.cache)
        case .toggleExperts: toggle(.experts)
        case .focusNext: chatFocused = source.canChat && !chatFocused
        case .cycleTheme: theme = themes.next(after: theme.name)
        case .reloadThemes: theme = themes.load(theme.name)
        case .pauseTimeline: frame.timeline.paused.toggle()
        case .zoomIn: frame.timeline = frame.timeline.zoomed(in: true)
        case .zoomOut: frame.timeline = frame.timeline.zoomed(in: false)
        case .switchModel: openPicker()
        case .expertWindow: frame.expertWindow = frame.expertWindow.next
        case .toggleThinking:
            if let i = frame.chat.turns.lastIndex(where: { !$0.reasoning.isEmpty }) { frame.chat.turns[i].reasoningFolded.toggle() }
        case .scrollUp: frame.chat.scrollBack += 10
        case .scrollDown: frame.chat.scrollBack = max(0, frame.chat.scrollBack - 10)
        case .followTail: frame.chat.scrollBack = 0
        }
        return true
    }

    func toggle(_ p: PaneID) {
        if frame.shown.contains(p) { frame.shown.remove(p) } else { frame.shown.insert(p) }
    }

    func send() {
        let text = frame.chat.input.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, stream == nil, source.canChat else { return }
        frame.chat.input = ""
        frame.chat.cursor = 0
        frame.chat.scrollBack = 0
        if history.last != text { history.append(text) }
        historyIndex = nil
        frame.chat.turns.append(Turn(role: .user, text: text))
        messages.append(ChatMessage(role: "user", content: text))
        frame.chat.turns.append(Turn(role: .assistant, text: ""))
        frame.chat.generating = true
        stream = ChatStream(source.chat(messages, params: SamplingParams(temperature: 0, maxTokens: 1024)))
    }

    // MARK: model switching

    func handlePicker(_ key: Key) -> Bool {
        guard var p = picker else { return true }
        switch key {
        case .up: p.move(-1)
        case .down: p.move(1)
        case .escape: picker = nil; return true
        case .enter:
            guard !p.loading, let name = p.selected else { break }
            p.loading = true
            p.message = "loading \(name)…"
            let src = source
            let box = p.result
            Thread.detachNewThread {
                do { box.set(.success(try src.switchModel(name))) } catch { box.set(.failure(error)) }
            }
        default: break
        }
        picker = p
        return true
    }

    func openPicker() {
        switch source.pickerModels() {
        case .success(let models):
            if let models {
                picker = ModelPicker(models: models, current: frame.chat.modelName)
            } else {
                picker = ModelPicker(current: frame.chat.modelName)
            }
        case .failure(let refusal):
            frame.chat.turns.append(Turn(role: .error, text: refusal.reason))
        }
    }

    /// Called every tick: a finished background load swaps the source, a failed one says why.
    func checkPicker() {
        guard var p = picker, p.loading, let r = p.result.take() else { return }
        switch r {
        case .success(let next):
            stream?.cancel()
            stream = nil
            let old = source
            source = next
            if old !== next { old.close() }
            _ = source.poll()
            events = []
            messages = []
            let name = next.modelName
            frame.chat = ChatState(modelName: name)
            frame.chat.turns.append(Turn(role: .assistant, text: "switched to \(name)"))
            frame.shape = next.shape
            frame.pageSize = next.pageSize
            picker = nil
        case .failure(let err):
            p.loading = false
            p.message = "could not load: \(err)"
            picker = p
        }
    }

    private func installSignalRestore() {
        for sig in exitOnSIGTERM ? [SIGTERM, SIGHUP, SIGQUIT] : [SIGHUP, SIGQUIT] {
            signal(sig) { s in
                restoreTerminalFromSignal()
                _exit(128 + s)
            }
        }
    }
}
