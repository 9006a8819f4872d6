/// What to generate from.
public enum PromptInput: Sendable {
    case text(String)
    case chat([ChatMessage])
    case tokens([Int32])
}

/// A completion request as callers submit it.
public struct GenerateRequest: Sendable {
    public var input: PromptInput
    public var params: SamplingParams
    /// Stop strings: generation ends before the first occurrence, which is not returned.
    public var stop: [String] = []
    /// Logprobs of the chosen token and this many alternatives per step (nil: none).
    public var topLogprobs: Int?
    /// Stream a thinking model's reasoning apart from its answer. nil: for chat input only
    /// (token ids may be anything; set true when they are a rendered chat).
    public var separateReasoning: Bool?

    public init(input: PromptInput, params: SamplingParams = SamplingParams(), stop: [String] = [], topLogprobs: Int? = nil) {
        self.input = input
        self.params = params
        self.stop = stop
        self.topLogprobs = topLogprobs
    }
}
