/// Token counts of a finished request (OpenAI's `usage`).
public struct Usage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    /// Prompt tokens whose KV came from the prefix cache.
    public var cachedPromptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, cachedPromptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.completionTokens = completionTokens
    }
}

/// When things happened to a request, in seconds since it was submitted.
public struct Timings: Sendable, Equatable, Codable {
    public var queued: Double
    public var firstToken: Double
    public var total: Double

    public init(queued: Double, firstToken: Double, total: Double) {
        self.queued = queued
        self.firstToken = firstToken
        self.total = total
    }
}

/// One chosen token's log-probability and the best alternatives.
public struct TokenLogprob: Sendable, Equatable {
    public var id: Int32
    public var logprob: Float
    public var top: [(id: Int32, logprob: Float)]

    public static func == (a: Self, b: Self) -> Bool {
        a.id == b.id && a.logprob == b.logprob && a.top.map(\.id) == b.top.map(\.id) && a.top.map(\.logprob) == b.top.map(\.logprob)
    }
}

/// What a request's stream carries.
public enum GenerationEvent: Sendable {
    /// New answer text and reasoning text (complete UTF-8, never part of a stop string or of a
    /// `<think>` tag) and the tokens that made them.
    case delta(text: String, reasoning: String, tokens: [Int32], logprobs: [TokenLogprob])
    case finished(reason: FinishReason, usage: Usage, timings: Timings)
}
