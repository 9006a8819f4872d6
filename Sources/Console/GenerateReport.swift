import Foundation
import Engine

/// What `ringside generate --json` prints: one completion's ids, text, reasoning, the top-5
/// log-probabilities of its first token and its speeds. The keys are a contract; they are the
/// property names, snake_case as scripts read them.
public struct GenerateReport: Encodable, Sendable, Equatable {
    public var model: String
    public var prompt_ids: [Int32]
    public var output_ids: [Int32] = []
    public var text = ""
    public var reasoning = ""
    public var finish_reason = ""
    public var prompt_tokens = 0
    public var completion_tokens = 0
    /// [token id, log-probability] pairs, best first.
    public var first_top5_logprobs: [[Double]] = []
    public var ttft_ms = 0.0
    public var decode_tokens_per_s = 0.0

    public init(model: String, prompt_ids: [Int32]) {
        self.model = model
        self.prompt_ids = prompt_ids
    }

    /// Takes in one event of the request's stream.
    public mutating func add(_ event: GenerationEvent) {
        switch event {
        case let .delta(text, reasoning, tokens, logprobs):
            output_ids += tokens
            self.text += text
            self.reasoning += reasoning
            if first_top5_logprobs.isEmpty, let first = logprobs.first {
                first_top5_logprobs = first.top.map { [Double($0.id), Double($0.logprob)] }
            }
        case let .finished(reason, usage, timings):
            finish_reason = reason.rawValue
            prompt_tokens = usage.promptTokens
            completion_tokens = usage.completionTokens
            ttft_ms = timings.firstToken * 1000
            // The first token comes from prefill; decode speed counts the ones after it.
            let decodeTime = timings.total - timings.firstToken
            decode_tokens_per_s = usage.completionTokens > 1 && decodeTime > 0
                ? Double(usage.completionTokens - 1) / decodeTime : 0
        }
    }

    /// One line of JSON, keys sorted, slashes unescaped.
    public var json: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: (try? enc.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The figures `generate` prints on stderr after the text.
    public var summary: String {
        String(format: "[%d prompt tokens, first token after %.0f ms; %d generated, %.1f t/s decode; %@]",
               prompt_tokens, ttft_ms, completion_tokens, decode_tokens_per_s, finish_reason)
    }
}
