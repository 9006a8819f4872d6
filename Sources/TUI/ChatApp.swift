import Engine
import Foundation

/// Text flowing from the generation thread to the UI thread.
final class Mailbox: @unchecked Sendable {
    // Guarded by `lock`; the UI takes what arrived once per frame.
    private let lock = NSLock()
    private var pending = ""
    private var finished: Result<GenerationResult, any Error>?
    private var cancelled = false

    func post(_ text: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        pending += text
        return !cancelled
    }

    func finish(_ r: Result<GenerationResult, any Error>) {
        lock.lock()
        finished = r
        lock.unlock()
    }

    func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    func take() -> (String, Result<GenerationResult, any Error>?) {
        lock.lock()
        defer { lock.unlock() }
        let out = (pending, finished)
        pending = ""
        finished = nil
        return out
    }
}

/// The cockpit's chat screen: type, stream the model's answer, keep the conversation going.
/// Runs the UI loop on the calling thread and generation on a background thread.
public final class ChatApp {
    let loaded: LoadedModel
    let generator: Generator
    let theme: Theme
    var state: ChatState
    var messages: [ChatMessage] = []
    var mailbox: Mailbox?

    public init(loaded: LoadedModel, theme: Theme, kvTokens: Int? = nil) {
        self.loaded = loaded
        self.theme = theme
        generator = Generator(loaded, kvTokens: kvTokens)
        state = ChatState(modelName: loaded.model.info.name)
    }

    public func run() {
        let term = CursesTerminal(noColor: ProcessInfo.processInfo.environment["NO_COLOR"] != nil)
        defer { term.close() }
        installSignalRestore()
        var dirty = true
        while true {
            if let key = term.readKey() {
                if !handle(key) { return }
                dirty = true
            }
            if term.pollResize() { dirty = true }
            if drainMailbox(width: term.width) { dirty = true }
            if dirty {
                let (buf, cursor) = ChatView.render(state, width: term.width, height: term.height, theme: theme)
                term.flush(buf, cursor: cursor)
                dirty = false
            }
        }
    }

    /// Returns false to quit.
    func handle(_ key: Key) -> Bool {
        switch key {
        case .ctrl("c"):
            if state.generating { mailbox?.cancel() } else { return false }
        case .ctrl("d") where state.input.isEmpty && !state.generating:
            return false
        case .escape:
            mailbox?.cancel()
        case .enter:
            send()
        case .backspace: state.backspace()
        case .delete: state.deleteForward()
        case .left: state.moveCursor(-1)
        case .right: state.moveCursor(1)
        case .home, .ctrl("a"): state.cursor = 0
        case .end, .ctrl("e"): state.cursor = state.input.count
        case .ctrl("u"): state.input = ""; state.cursor = 0
        case .pageUp: state.scrollBack += 10
        case .pageDown: state.scrollBack = max(0, state.scrollBack - 10)
        case .char(let c): state.insert(c)
        default: break
        }
        return true
    }

    func send() {
        let text = state.input.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, !state.generating else { return }
        state.input = ""
        state.cursor = 0
        state.scrollBack = 0
        state.turns.append(Turn(role: .user, text: text))
        messages.append(ChatMessage(role: "user", content: text))
        let prompt: [Int32]
        do { prompt = try loaded.chatPrompt(messages) } catch {
            state.turns.append(Turn(role: .error, text: "\(error)"))
            messages.removeLast()
            return
        }
        state.turns.append(Turn(role: .assistant, text: ""))
        state.generating = true
        let box = Mailbox()
        mailbox = box
        let generator = self.generator
        let params = SamplingParams(temperature: 0, maxTokens: 512)
        Thread.detachNewThread {
            box.finish(Result { try generator.generate(prompt: prompt, params: params) { box.post($0) } })
        }
    }

    /// Moves streamed text into the transcript; true when something changed.
    func drainMailbox(width: Int) -> Bool {
        guard let box = mailbox else { return false }
        let (text, finished) = box.take()
        if !text.isEmpty {
            // Reading scrollback: grow the offset with the new lines so the view stays put.
            let before = state.scrollBack > 0 ? ChatView.transcriptLineCount(state, width: width) : 0
            state.turns[state.turns.count - 1].text += text
            if state.scrollBack > 0 { state.scrollBack += ChatView.transcriptLineCount(state, width: width) - before }
        }
        guard let result = finished else { return !text.isEmpty }
        mailbox = nil
        state.generating = false
        switch result {
        case .success(let r):
            messages.append(ChatMessage(role: "assistant", content: r.text))
            state.footer = String(format: "%d tokens · %.0f t/s · prompt %d tokens at %.0f t/s", r.outputIDs.count,
                                  r.decodeTokensPerSecond, r.promptIDs.count, r.prefillTokensPerSecond)
        case .failure(let e):
            messages.removeLast()
            state.turns.append(Turn(role: .error, text: "\(e)"))
        }
        return true
    }

    private func installSignalRestore() {
        for sig in [SIGTERM, SIGHUP, SIGQUIT] {
            signal(sig) { s in
                restoreTerminalFromSignal()
                _exit(128 + s)
            }
        }
    }
}
