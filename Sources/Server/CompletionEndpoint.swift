import Engine
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension OpenAIServer {
    /// `/v1/chat/completions` and `/v1/completions`. A client that goes away aborts its
    /// request: a whole response is computed under Hummingbird's cancellation on inbound
    /// close; a stream stops at the first write that fails. Both answer `Connection: close`,
    /// since the watch for the client's hang-up reads the connection to its end.
    func completion(_ request: Request, kind: CompletionRequest.Kind) async throws -> Response {
        let arrival = ContinuousClock.now
        var request = request
        let json = try await body(&request)
        let parsed = try CompletionRequest.parse(json, kind: kind, loaded: engine.loaded, servedName: options.servedModelName,
                                                 maxPromptTokens: engine.maxPromptTokens)
        guard state.accepting else { throw APIError.shuttingDown }
        let count = parsed.prompts.count * parsed.n
        guard admission.reserve(count, capacity: engine.config.maxRunningRequests, limit: options.maxQueuedRequests) else {
            throw APIError.overloaded(queued: max(admission.inFlight - engine.config.maxRunningRequests, 0), retryAfter: 1)
        }
        let shapes = CompletionShapes(kind: kind, model: parsed.model, tokenizer: engine.loaded.tokenizer)
        let (events, cancel) = runner.run(parsed, arrival: arrival)
        if parsed.stream {
            return stream(events, cancel, parsed, shapes)
        }
        return try await request.body.consumeWithCancellationOnInboundClose { [self] _ in
            defer { cancel() }
            var choices = Array(repeating: CompletionShapes.Choice(), count: count)
            for await e in events {
                switch e {
                case let .event(i, .delta(text, reasoning, tokens, logprobs)):
                    choices[i].text += text
                    choices[i].reasoning += reasoning
                    choices[i].tokens += tokens.count
                    choices[i].logprobs += logprobs
                case let .event(i, .finished(reason, usage, _)):
                    choices[i].finish = reason.openAI
                    choices[i].usage = usage
                case let .failed(i, error):
                    try Task.checkCancellation()
                    if let e = error as? EngineError, e != .shutDown { throw APIError.badRequest(e.description) }
                    choices[i].finish = "abort"
                }
            }
            try Task.checkCancellation()
            let promptCounts = parsed.prompts.map(\.count)
            return Self.json(shapes.response(choices, promptTokens: promptCounts, n: parsed.n, wantLogprobs: parsed.logprobs,
                                             separateReasoning: parsed.base.separateReasoning == true))
        }
    }

    /// Server-sent events: a role chunk per choice (chat), then one chunk per piece of
    /// reasoning or answer, a finish chunk per choice, the usage chunk when asked, `[DONE]`.
    private func stream(_ events: AsyncStream<ChoiceEvent>, _ cancel: @escaping @Sendable () -> Void, _ parsed: CompletionRequest,
                        _ shapes: CompletionShapes) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        // Watching for the client to hang up consumes the connection's input: it cannot
        // carry another request, and clients must not try.
        headers[.connection] = "close"
        let count = parsed.prompts.count * parsed.n
        let body = ResponseBody { writer in
            // A failed write (the client went away) ends the choices still running.
            defer { cancel() }
            func send(_ j: JSON) async throws {
                try await writer.write(ByteBuffer(string: "data: " + j.text + "\n\n"))
            }
            let usageField = parsed.includeUsage
            var choices = Array(repeating: CompletionShapes.Choice(), count: count)
            var textOffset = Array(repeating: 0, count: count)
            if parsed.kind == .chat {
                for i in 0 ..< count {
                    try await send(shapes.chunk(index: i, content: "", reasoning: nil, role: true, includeUsage: usageField))
                }
            }
            for await e in events {
                switch e {
                case let .event(i, .delta(text, reasoning, tokens, logprobs)):
                    choices[i].tokens += tokens.count
                    var lp = JSON.null
                    if parsed.logprobs {
                        if parsed.kind == .chat {
                            lp = shapes.chatLogprobs(logprobs)
                        } else {
                            (lp, textOffset[i]) = shapes.textLogprobs(logprobs, offset: textOffset[i])
                        }
                    }
                    if !reasoning.isEmpty {
                        try await send(shapes.chunk(index: i, content: nil, reasoning: reasoning, logprobs: lp, includeUsage: usageField))
                        lp = .null
                    }
                    if !text.isEmpty || (reasoning.isEmpty && lp != .null) {
                        try await send(shapes.chunk(index: i, content: text, reasoning: nil, logprobs: lp, includeUsage: usageField))
                    }
                case let .event(i, .finished(reason, usage, _)):
                    choices[i].usage = usage
                    choices[i].finish = reason.openAI
                    try await send(shapes.chunk(index: i, content: parsed.kind == .chat ? nil : "", reasoning: nil,
                                                finish: reason.openAI, includeUsage: usageField))
                case let .failed(i, error):
                    choices[i].finish = "abort"
                    if let e = error as? EngineError, e != .shutDown {
                        try await send(APIError.badRequest(e.description).json)
                    } else {
                        try await send(shapes.chunk(index: i, content: parsed.kind == .chat ? nil : "", reasoning: nil,
                                                    finish: "abort", includeUsage: usageField))
                    }
                }
            }
            // Choices the stream ended without (the server is stopping): they were aborted.
            for i in 0 ..< count where choices[i].finish == nil {
                try await send(shapes.chunk(index: i, content: parsed.kind == .chat ? nil : "", reasoning: nil,
                                            finish: "abort", includeUsage: usageField))
            }
            if usageField {
                try await send(shapes.usageChunk(shapes.usage(choices, promptTokens: parsed.prompts.map(\.count), n: parsed.n)))
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
