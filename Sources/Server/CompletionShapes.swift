import Engine
import Foundation

/// OpenAI's response shapes for chat completions and (legacy) completions, whole and as
/// stream chunks.
struct CompletionShapes: Sendable {
    let kind: CompletionRequest.Kind
    let id: String
    let created: Int
    let model: String
    let tokenizer: any Tokenizer

    init(kind: CompletionRequest.Kind, model: String, tokenizer: any Tokenizer) {
        self.kind = kind
        self.model = model
        self.tokenizer = tokenizer
        created = Int(Date().timeIntervalSince1970)
        let hex = (0 ..< 24).map { _ in String(Int.random(in: 0 ..< 16), radix: 16) }.joined()
        id = (kind == .chat ? "chatcmpl-" : "cmpl-") + hex
    }

    /// What one choice produced.
    struct Choice {
        var text = ""
        var reasoning = ""
        var logprobs: [TokenLogprob] = []
        var tokens = 0
        var finish: String?
        var usage: Usage?
    }

    // MARK: Whole responses

    func response(_ choices: [Choice], promptTokens: [Int], n: Int, wantLogprobs: Bool, separateReasoning: Bool) -> JSON {
        let items: [JSON] = choices.enumerated().map { i, c in
            switch kind {
            case .chat:
                var message: [(String, JSON)] = [("role", "assistant"), ("content", .string(c.text))]
                if separateReasoning { message.append(("reasoning_content", c.reasoning.isEmpty ? .null : .string(c.reasoning))) }
                return .object([("index", .int(i)), ("message", .object(message)),
                                ("logprobs", wantLogprobs ? chatLogprobs(c.logprobs) : .null),
                                ("finish_reason", c.finish.json)])
            case .text:
                return .object([("index", .int(i)), ("text", .string(c.text)),
                                ("logprobs", wantLogprobs ? textLogprobs(c.logprobs, offset: 0).0 : .null),
                                ("finish_reason", c.finish.json)])
            }
        }
        return .object(header(object: kind == .chat ? "chat.completion" : "text_completion") + [
            ("choices", .array(items)),
            ("usage", usage(choices, promptTokens: promptTokens, n: n)),
        ])
    }

    /// Prompt tokens count once per prompt (not per choice), as in OpenAI's API; cached tokens
    /// are what the first choice of each prompt found in the prefix cache.
    func usage(_ choices: [Choice], promptTokens: [Int], n: Int) -> JSON {
        var prompt = 0, cached = 0, completion = 0
        for (p, count) in promptTokens.enumerated() {
            prompt += count
            cached += choices[p * n].usage?.cachedPromptTokens ?? 0
        }
        for c in choices { completion += c.usage?.completionTokens ?? c.tokens }
        return .object([("prompt_tokens", .int(prompt)), ("completion_tokens", .int(completion)),
                        ("total_tokens", .int(prompt + completion)),
                        ("prompt_tokens_details", .object([("cached_tokens", .int(cached))]))])
    }

    private func header(object: String) -> [(String, JSON)] {
        [("id", .string(id)), ("object", .string(object)), ("created", .int(created)), ("model", .string(model))]
    }

    // MARK: Stream chunks

    func chunk(index: Int, content: String?, reasoning: String?, role: Bool = false, logprobs: JSON = .null,
               finish: String? = nil, includeUsage: Bool) -> JSON {
        var choice: [(String, JSON)] = [("index", .int(index))]
        switch kind {
        case .chat:
            var delta: [(String, JSON)] = []
            if role { delta.append(("role", "assistant")) }
            if let content { delta.append(("content", .string(content))) }
            if let reasoning { delta.append(("reasoning_content", .string(reasoning))) }
            choice.append(("delta", .object(delta)))
        case .text:
            choice.append(("text", .string(content ?? "")))
        }
        choice.append(("logprobs", logprobs))
        choice.append(("finish_reason", finish.json))
        var out = header(object: kind == .chat ? "chat.completion.chunk" : "text_completion")
        out.append(("choices", .array([.object(choice)])))
        if includeUsage { out.append(("usage", .null)) }
        return .object(out)
    }

    func usageChunk(_ usage: JSON) -> JSON {
        .object(header(object: kind == .chat ? "chat.completion.chunk" : "text_completion") + [("choices", .array([])), ("usage", usage)])
    }

    // MARK: Logprobs

    private func token(_ id: Int32) -> (String, JSON) {
        let bytes = tokenizer.tokenBytes(id)
        return (String(decoding: bytes, as: UTF8.self), .array(bytes.map { .int(Int($0)) }))
    }

    func chatLogprobs(_ lps: [TokenLogprob]) -> JSON {
        .object([("content", .array(lps.map { lp in
            let (t, b) = token(lp.id)
            return .object([("token", .string(t)), ("logprob", .double(Double(lp.logprob))), ("bytes", b),
                            ("top_logprobs", .array(lp.top.map { alt in
                                let (at, ab) = token(alt.id)
                                return .object([("token", .string(at)), ("logprob", .double(Double(alt.logprob))), ("bytes", ab)])
                            }))])
        }))])
    }

    /// The legacy shape; `offset` is the text offset of the first token. Returns the offset
    /// after the last.
    func textLogprobs(_ lps: [TokenLogprob], offset: Int) -> (JSON, Int) {
        var tokens: [JSON] = [], values: [JSON] = [], tops: [JSON] = [], offsets: [JSON] = []
        var at = offset
        for lp in lps {
            let (t, _) = token(lp.id)
            tokens.append(.string(t))
            values.append(.double(Double(lp.logprob)))
            tops.append(.object(lp.top.map { (token($0.id).0, .double(Double($0.logprob))) }))
            offsets.append(.int(at))
            at += t.count
        }
        return (.object([("tokens", .array(tokens)), ("token_logprobs", .array(values)), ("top_logprobs", .array(tops)),
                         ("text_offset", .array(offsets))]), at)
    }
}

extension FinishReason {
    var openAI: String { rawValue }
}
