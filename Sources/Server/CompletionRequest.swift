import Engine
import Jinja

/// A parsed `/v1/chat/completions` or `/v1/completions` request: the prompts as token ids and
/// what to generate from each.
struct CompletionRequest: Sendable {
    enum Kind: Sendable { case chat, text }

    var kind: Kind
    var model: String
    /// One entry per prompt (chat: exactly one); each gets `n` choices.
    var prompts: [[Int32]]
    var n = 1
    /// Sampling and stop conditions; `input` is set per prompt.
    var base: GenerateRequest
    var stream = false
    var includeUsage = false
    var logprobs = false

    /// Fields OpenAI's API has that this server does not implement, with the value that means
    /// "not used" (accepted), or nil when any value is refused.
    private static let unsupported: [String: @Sendable (JSON) -> Bool] = [
        "tools": { $0 == .array([]) },
        "tool_choice": { $0 == "none" },
        "functions": { $0 == .array([]) },
        "function_call": { $0 == "none" },
        "parallel_tool_calls": { _ in false },
        "response_format": { $0["type"] == "text" && (Self.keys($0) == ["type"]) },
        "logit_bias": { $0 == .object([]) },
        "echo": { $0 == false },
        "best_of": { $0 == 1 },
        "suffix": { $0 == "" },
        "audio": { _ in false },
        "modalities": { $0 == ["text"] },
        "prediction": { _ in false },
        "regex": { _ in false },
        "ebnf": { _ in false },
        "json_schema": { _ in false },
        "min_tokens": { $0 == 0 },
        "lora_path": { _ in false },
    ]

    private static func keys(_ j: JSON) -> [String] {
        if case .object(let p) = j { return p.map(\.0) }
        return []
    }

    static func parse(_ body: JSON, kind: Kind, loaded: LoadedModel, servedName: String, maxPromptTokens: Int) throws -> CompletionRequest {
        var f = try Fields(body)
        let model = try f.string("model") ?? servedName
        if model != servedName && model != loaded.path {
            throw APIError.unknownModel(model, served: servedName)
        }

        var p = SamplingParams()
        p.maxTokens = 0
        if let m = try f.int("max_completion_tokens", 1 ... 1 << 30) ?? f.int("max_tokens", 1 ... 1 << 30) {
            p.maxTokens = m
        } else {
            _ = f.raw("max_tokens")
            // Without a limit a request may use the rest of the context, as in SGLang.
            p.maxTokens = max(1, loaded.model.info.contextLength)
        }
        p.temperature = Float(try f.number("temperature", 0 ... 2) ?? 1)
        p.topP = Float(try f.number("top_p", 0 ... 1) ?? 1)
        if p.topP == 0 { throw APIError.outOfRange("top_p", "in (0, 1]") }
        let topK = try f.int("top_k", -1 ... 1 << 30) ?? 0
        p.topK = max(topK, 0)
        p.minP = Float(try f.number("min_p", 0 ... 1) ?? 0)
        p.presencePenalty = Float(try f.number("presence_penalty", -2 ... 2) ?? 0)
        p.frequencyPenalty = Float(try f.number("frequency_penalty", -2 ... 2) ?? 0)
        p.repetitionPenalty = Float(try f.number("repetition_penalty", 0 ... 2) ?? 1)
        if p.repetitionPenalty == 0 { throw APIError.outOfRange("repetition_penalty", "in (0, 2]") }
        if let s = try f.int("seed", Int.min ... Int.max) { p.seed = UInt64(bitPattern: Int64(s)) }
        p.ignoreEOS = try f.bool("ignore_eos") ?? false
        if let ids = f.raw("stop_token_ids") {
            p.stopTokenIDs = try tokenIDs(ids, param: "stop_token_ids", vocab: loaded.model.info.vocabSize)
        }

        var stop: [String] = []
        if let s = f.raw("stop") {
            switch s {
            case .string(let one): stop = [one]
            case .array(let items):
                stop = try items.enumerated().map { i, v in
                    guard case .string(let t) = v else { throw APIError.invalidType("stop[\(i)]", expected: "a string", got: v) }
                    return t
                }
            default: throw APIError.invalidType("stop", expected: "a string or an array of strings", got: s)
            }
            if stop.contains("") { throw APIError.badRequest("'stop' strings must not be empty", param: "stop") }
        }

        let n = try f.int("n", 1 ... 64) ?? 1
        let stream = try f.bool("stream") ?? false
        var includeUsage = false
        if let so = f.raw("stream_options") {
            var o = try Fields(so, what: "'stream_options'")
            includeUsage = try o.bool("include_usage") ?? false
            _ = o.raw("continuous_usage_stats")
            if let extra = o.unread.first { throw APIError.badRequest("unsupported field 'stream_options.\(extra)'", param: "stream_options.\(extra)") }
        }

        var logprobs = false
        var topLogprobs = 0
        switch kind {
        case .chat:
            logprobs = try f.bool("logprobs") ?? false
            topLogprobs = try f.int("top_logprobs", 0 ... 20) ?? 0
            if topLogprobs > 0 && !logprobs {
                throw APIError.badRequest("'top_logprobs' needs 'logprobs': true", param: "top_logprobs")
            }
        case .text:
            // The legacy API: `logprobs` is the number of alternatives.
            if let k = try f.int("logprobs", 0 ... 5) {
                logprobs = true
                topLogprobs = k
            }
        }

        let separate = try f.bool("separate_reasoning")
        _ = try f.string("user")
        var prompts: [[Int32]] = []
        switch kind {
        case .chat:
            let kwargs = try f.raw("chat_template_kwargs").map { try templateKwargs($0) } ?? [:]
            guard let messages = f.raw("messages") else { throw APIError.badRequest("'messages' is required", param: "messages") }
            prompts = [try renderChat(messages, kwargs: kwargs, loaded: loaded)]
        case .text:
            guard let prompt = f.raw("prompt") else { throw APIError.badRequest("'prompt' is required", param: "prompt") }
            prompts = try textPrompts(prompt, loaded: loaded)
        }
        for (i, t) in prompts.enumerated() {
            let param = kind == .chat ? "messages" : (prompts.count > 1 ? "prompt[\(i)]" : "prompt")
            if t.isEmpty { throw APIError.badRequest("the prompt is empty", param: param) }
            if t.count > maxPromptTokens {
                throw APIError(.badRequest, "the prompt has \(t.count) tokens but at most \(maxPromptTokens) fit in the context",
                               param: param, code: "context_length_exceeded")
            }
        }

        for (key, harmless) in unsupported where f.keys.contains(key) {
            guard let v = f.raw(key) else { continue }
            if !harmless(v) { throw APIError.badRequest("'\(key)' is not supported by this server", param: key) }
        }
        let rest = f.unread
        if !rest.isEmpty {
            throw APIError.badRequest("unsupported field\(rest.count > 1 ? "s" : ""): \(rest.map { "'\($0)'" }.joined(separator: ", "))",
                                      param: rest[0])
        }

        var base = GenerateRequest(input: .tokens([]), params: p, stop: stop, topLogprobs: logprobs ? topLogprobs : nil)
        base.separateReasoning = kind == .chat ? (separate ?? true) : (separate ?? false)
        return CompletionRequest(kind: kind, model: model, prompts: prompts, n: n, base: base, stream: stream,
                                 includeUsage: includeUsage, logprobs: logprobs)
    }

    static func tokenIDs(_ v: JSON, param: String, vocab: Int) throws -> [Int32] {
        guard case .array(let items) = v else { throw APIError.invalidType(param, expected: "an array of token ids", got: v) }
        return try items.enumerated().map { i, x in
            guard case .int(let id) = x else { throw APIError.invalidType("\(param)[\(i)]", expected: "an integer", got: x) }
            guard id >= 0, id < vocab else { throw APIError.outOfRange("\(param)[\(i)]", "a token id in 0..<\(vocab), not \(id)") }
            return Int32(id)
        }
    }

    /// A string, a list of strings, a list of token ids, or a list of such lists.
    static func textPrompts(_ v: JSON, loaded: LoadedModel) throws -> [[Int32]] {
        let vocab = loaded.model.info.vocabSize
        switch v {
        case .string(let s): return [loaded.rawPrompt(s)]
        case .array(let items):
            if items.isEmpty { throw APIError.badRequest("'prompt' is empty", param: "prompt") }
            if items.allSatisfy({ if case .int = $0 { true } else { false } }) {
                return [try tokenIDs(v, param: "prompt", vocab: vocab)]
            }
            return try items.enumerated().map { i, item in
                switch item {
                case .string(let s): return loaded.rawPrompt(s)
                case .array: return try tokenIDs(item, param: "prompt[\(i)]", vocab: vocab)
                default: throw APIError.invalidType("prompt[\(i)]", expected: "a string or an array of token ids", got: item)
                }
            }
        default:
            throw APIError.invalidType("prompt", expected: "a string, an array of strings or an array of token ids", got: v)
        }
    }

    /// The chat rendered through the model's template and tokenized.
    static func renderChat(_ v: JSON, kwargs: [String: JinjaValue], loaded: LoadedModel) throws -> [Int32] {
        let text = try renderChatText(v, kwargs: kwargs, loaded: loaded)
        return loaded.tokenizer.encode(text, addBOS: false, parseSpecial: true)
    }

    static func renderChatText(_ v: JSON, kwargs: [String: JinjaValue], loaded: LoadedModel) throws -> String {
        guard case .array(let items) = v else { throw APIError.invalidType("messages", expected: "an array of messages", got: v) }
        if items.isEmpty { throw APIError.badRequest("'messages' must not be empty", param: "messages") }
        var messages: [JinjaValue] = []
        for (i, item) in items.enumerated() {
            var m = try Fields(item, what: "'messages[\(i)]'")
            guard let role = try m.string("role") else { throw APIError.badRequest("'messages[\(i)].role' is required", param: "messages[\(i)].role") }
            guard ["system", "developer", "user", "assistant"].contains(role) else {
                throw APIError.badRequest("'messages[\(i)].role' must be system, developer, user or assistant, not '\(role)'",
                                          param: "messages[\(i)].role")
            }
            let content = try messageContent(m.raw("content"), param: "messages[\(i)].content", role: role)
            var obj: [(String, JinjaValue)] = [("role", .string(role == "developer" ? "system" : role)), ("content", .string(content))]
            if let r = try m.string("reasoning_content") { obj.append(("reasoning_content", .string(r))) }
            _ = try m.string("name")
            if let extra = m.unread.first {
                throw APIError.badRequest("'messages[\(i)].\(extra)' is not supported by this server", param: "messages[\(i)].\(extra)")
            }
            messages.append(.object(obj))
        }
        guard let template = loaded.chatTemplate else {
            throw APIError.badRequest("this model has no chat template; use /v1/completions", param: "messages")
        }
        let bos = loaded.tokenizer.bosID.flatMap { loaded.tokenizer.tokenText($0) }
        let eos = loaded.tokenizer.eosID.flatMap { loaded.tokenizer.tokenText($0) }
        do {
            return try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos, extra: kwargs)
        } catch {
            throw APIError.badRequest("the chat template failed: \(error)", param: "messages")
        }
    }

    private static func messageContent(_ v: JSON?, param: String, role: String) throws -> String {
        switch v {
        case nil:
            if role == "assistant" { return "" }
            throw APIError.badRequest("'\(param)' is required", param: param)
        case .string(let s)?: return s
        case .array(let parts)?:
            var text = ""
            for (j, part) in parts.enumerated() {
                var pf = try Fields(part, what: "'\(param)[\(j)]'")
                let type = try pf.string("type")
                guard type == "text" else {
                    throw APIError.badRequest("content parts of type '\(type ?? "")' are not supported (only 'text')", param: "\(param)[\(j)].type")
                }
                guard let t = try pf.string("text") else { throw APIError.badRequest("'\(param)[\(j)].text' is required", param: "\(param)[\(j)].text") }
                text += t
            }
            return text
        case let other?:
            throw APIError.invalidType(param, expected: "a string or an array of text parts", got: other)
        }
    }

    static func templateKwargs(_ v: JSON) throws -> [String: JinjaValue] {
        guard case .object(let pairs) = v else { throw APIError.invalidType("chat_template_kwargs", expected: "an object", got: v) }
        var out: [String: JinjaValue] = [:]
        for (k, x) in pairs { out[k] = jinja(x) }
        return out
    }

    static func jinja(_ v: JSON) -> JinjaValue {
        switch v {
        case .null: .none
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .string(s)
        case .array(let a): .array(a.map(jinja))
        case .object(let p): .object(p.map { ($0.0, jinja($0.1)) })
        }
    }
}
