import Engine
import Jinja
import Foundation
import Hummingbird

/// The endpoints beside the OpenAI ones: SGLang's and llama.cpp's tokenizer and template
/// helpers, the generating health check, and the cache flush.
extension OpenAIServer {
    /// SGLang's `/health_generate`: 200 once one token came out of the engine.
    func healthGenerate() async throws -> Response {
        guard state.accepting else { throw APIError.shuttingDown }
        let request = GenerateRequest(input: .tokens([engine.loaded.tokenizer.bosID ?? 0]), params: SamplingParams(maxTokens: 1))
        for try await e in engine.submit(request) {
            if case .finished = e { return Response(status: .ok) }
        }
        throw APIError(.serviceUnavailable, "the engine produced no token", type: "server_error")
    }

    /// SGLang's shape (`prompt`, `add_special_tokens` -> `tokens`, `count`, `max_model_len`)
    /// or llama.cpp's (`content`, `add_special`, `with_pieces` -> `tokens`).
    func tokenize(_ body: JSON) throws -> Response {
        var f = try Fields(body)
        _ = try f.string("model")
        let tokenizer = engine.loaded.tokenizer
        if let content = try f.string("content") {
            let addSpecial = try f.bool("add_special") ?? false
            let parseSpecial = try f.bool("parse_special") ?? true
            let pieces = try f.bool("with_pieces") ?? false
            try rejectUnread(f)
            let ids = tokenizer.encode(content, addBOS: addSpecial ? nil : false, parseSpecial: parseSpecial)
            if pieces {
                return Self.json(["tokens": .array(ids.map { id in
                    let bytes = tokenizer.tokenBytes(id)
                    let piece: JSON = String(validating: bytes, as: UTF8.self).map { .string($0) } ?? .array(bytes.map { .int(Int($0)) })
                    return ["id": .int(Int(id)), "piece": piece]
                })])
            }
            return Self.json(["tokens": .array(ids.map { .int(Int($0)) })])
        }
        guard let prompt = f.raw("prompt") else {
            throw APIError.badRequest("send 'prompt' (SGLang) or 'content' (llama.cpp)", param: "prompt")
        }
        let addSpecial = try f.bool("add_special_tokens") ?? true
        try rejectUnread(f)
        let encode = { (s: String) in tokenizer.encode(s, addBOS: addSpecial ? nil : false, parseSpecial: false) }
        let limit = JSON.int(engine.maxPromptTokens + 1)
        switch prompt {
        case .string(let s):
            let ids = encode(s)
            return Self.json(["tokens": .array(ids.map { .int(Int($0)) }), "count": .int(ids.count), "max_model_len": limit])
        case .array(let items):
            let lists = try items.enumerated().map { i, v -> [Int32] in
                guard case .string(let s) = v else { throw APIError.invalidType("prompt[\(i)]", expected: "a string", got: v) }
                return encode(s)
            }
            return Self.json(["tokens": .array(lists.map { .array($0.map { .int(Int($0)) }) }),
                              "count": .array(lists.map { .int($0.count) }), "max_model_len": limit])
        default:
            throw APIError.invalidType("prompt", expected: "a string or an array of strings", got: prompt)
        }
    }

    /// `tokens` -> the text, under SGLang's key (`text`) and llama.cpp's (`content`).
    func detokenize(_ body: JSON) throws -> Response {
        var f = try Fields(body)
        _ = try f.string("model")
        guard let tokens = f.raw("tokens") else { throw APIError.badRequest("'tokens' is required", param: "tokens") }
        let skip = try f.bool("skip_special_tokens") ?? false
        try rejectUnread(f)
        let ids = try CompletionRequest.tokenIDs(tokens, param: "tokens", vocab: engine.loaded.model.info.vocabSize)
        let text = engine.loaded.tokenizer.decode(ids, skipSpecial: skip)
        return Self.json(["text": .string(text), "content": .string(text)])
    }

    /// llama.cpp's `/apply-template`: the prompt a chat request would be rendered to.
    func applyTemplate(_ body: JSON) throws -> Response {
        var f = try Fields(body)
        _ = try f.string("model")
        let kwargs = try f.raw("chat_template_kwargs").map { try CompletionRequest.templateKwargs($0) } ?? [:]
        guard let messages = f.raw("messages") else { throw APIError.badRequest("'messages' is required", param: "messages") }
        try rejectUnread(f)
        let text = try CompletionRequest.renderChatText(messages, kwargs: kwargs, loaded: engine.loaded)
        return Self.json(["prompt": .string(text)])
    }

    /// SGLang's `/flush_cache`: refused (400) while requests run.
    func flushCache() async throws -> Response {
        guard await engine.flushCache() else {
            throw APIError.badRequest("cannot flush the cache while requests are running or waiting")
        }
        return Self.json(["message": "Cache flushed."])
    }

    private func rejectUnread(_ f: Fields) throws {
        let rest = f.unread
        guard rest.isEmpty else {
            throw APIError.badRequest("unsupported field\(rest.count > 1 ? "s" : ""): \(rest.map { "'\($0)'" }.joined(separator: ", "))",
                                      param: rest[0])
        }
    }
}
