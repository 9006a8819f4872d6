import Foundation
import Profiler

/// The serving engine: many requests at once over one model, SGLang style.
///
/// `submit` returns a stream of events at once; tokenization happens on the caller's task,
/// scheduling on the host thread, the forward pass and sampling on the device thread.
/// Cancelling the consuming task, or dropping the stream, aborts the request wherever it is
/// (waiting, in prefill, decoding): the stream ends without a `.finished` event, and the
/// request's KV pages and row are given back (its computed prefix stays in the radix cache,
/// unlocked). A request whose prompt and output reach the model's context, or that alone
/// outgrows the whole KV pool, finishes with `length`.
public final class Engine: Sendable {
    public let loaded: LoadedModel
    public let config: EngineConfig
    public let recorder: Recorder
    let scheduler: Scheduler
    private let nextID = IDCounter()
    private let shutdownOnce = Once()

    public init(_ loaded: LoadedModel, config: EngineConfig = EngineConfig(), recorder: Recorder = Recorder()) {
        self.loaded = loaded
        self.config = config
        self.recorder = recorder
        scheduler = Scheduler(loaded: loaded, config: config, recorder: recorder)
        scheduler.start()
    }

    deinit { scheduler.send(.shutdown) }

    /// Stops the engine: running requests end with `EngineError.shutDown`. Returns once the
    /// engine's threads are done with the model, so another engine may use it.
    public func shutdown() {
        guard shutdownOnce.claim() else { return }
        scheduler.send(.shutdown)
        scheduler.stopped.wait()
    }

    /// Tokens the KV cache holds, and the longest prompt a request may have.
    public var kvCacheTokens: Int { scheduler.cache.slotCount }
    public var maxPromptTokens: Int { scheduler.maxPromptTokens }

    /// Queues a request. Errors in the request itself (an empty or too long prompt, a bad
    /// template) end its stream at once; other requests are not affected.
    public func submit(_ request: GenerateRequest) -> AsyncThrowingStream<GenerationEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        let prompt: [Int32]
        do {
            prompt = try tokenize(request.input)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        if let problem = validate(prompt) {
            continuation.finish(throwing: problem)
            return stream
        }
        let id = nextID.next()
        // Output beyond the context has no KV slots: such a request ends with `length` there.
        // The last token is sampled from the last slot and needs none of its own, hence + 2.
        var request = request
        request.params.maxTokens = min(request.params.maxTokens, maxPromptTokens + 2 - prompt.count)
        let req = Req(id: id, prompt: prompt, request: request, tokenizer: loaded.tokenizer,
                      vocabSize: loaded.model.info.vocabSize, continuation: continuation)
        var isChat = false
        if case .chat = request.input { isChat = true }
        if request.separateReasoning ?? isChat, let style = loaded.reasoningStyle {
            req.reasoning = ReasoningParser(style: style)
        }
        continuation.onTermination = { [weak scheduler] reason in
            if case .cancelled = reason { scheduler?.send(.cancel(id)) }
        }
        scheduler.send(.submit(req))
        return stream
    }

    private func tokenize(_ input: PromptInput) throws -> [Int32] {
        switch input {
        case .tokens(let t): return t
        case .text(let s): return loaded.rawPrompt(s)
        case .chat(let messages):
            do { return try loaded.chatPrompt(messages) } catch { throw EngineError.template("\(error)") }
        }
    }

    /// Why `config` cannot run `loaded` (commands check before they start an engine; an engine
    /// started anyway fails each request with it).
    public static func problem(_ config: EngineConfig, _ loaded: LoadedModel) -> EngineError? {
        if config.speculative?.algorithm == .nextn, (loaded.model as? DecoderModel)?.nextn == nil {
            return .noDraftLayer(model: loaded.model.info.name)
        }
        return nil
    }

    private func validate(_ prompt: [Int32]) -> EngineError? {
        if let problem = Self.problem(config, loaded) { return problem }
        if prompt.isEmpty { return .emptyPrompt }
        let vocab = loaded.model.info.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= vocab }) { return .invalidToken(bad, vocabSize: vocab) }
        if prompt.count > maxPromptTokens { return .promptTooLong(tokens: prompt.count, limit: maxPromptTokens) }
        return nil
    }
}
