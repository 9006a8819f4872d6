import Engine
import Remote
import Foundation

/// What a benchmark request reports as it streams.
public enum BenchChunk: Sendable {
    /// Some output arrived (`tokens` of it, when the target says; else one chunk).
    case output(tokens: Int, ids: [Int32])
    case done(promptTokens: Int?, cachedTokens: Int?, outputTokens: Int?)
}

/// Where `bench` sends its requests.
public protocol BenchTarget: Sendable {
    var name: String { get }
    func send(_ r: BenchRequest, ignoreEOS: Bool) -> AsyncThrowingStream<BenchChunk, any Error>
}

/// The in-process engine.
public struct EngineTarget: BenchTarget {
    public let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public var name: String { "ringside (in-process, \(engine.loaded.model.info.name))" }

    public func send(_ r: BenchRequest, ignoreEOS: Bool) -> AsyncThrowingStream<BenchChunk, any Error> {
        let events = engine.submit(GenerateRequest(input: .tokens(r.prompt), params: SamplingParams(maxTokens: r.outputLen, ignoreEOS: ignoreEOS)))
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await e in events {
                        switch e {
                        case let .delta(_, _, tokens, _):
                            continuation.yield(.output(tokens: tokens.count, ids: tokens))
                        case let .finished(_, usage, _):
                            continuation.yield(.done(promptTokens: usage.promptTokens, cachedTokens: usage.cachedPromptTokens,
                                                     outputTokens: usage.completionTokens))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Any OpenAI-compatible server (llama.cpp's llama-server, SGLang, `ringside serve`), through
/// `/v1/completions` with the prompt as token ids.
public struct HTTPTarget: BenchTarget {
    public let client: RemoteClient
    public let url: String
    public let model: String

    public init(client: RemoteClient, url: String, model: String) {
        self.client = client
        self.url = url
        self.model = model
    }

    public var name: String { "OpenAI-compatible server at \(url)" }

    public func send(_ r: BenchRequest, ignoreEOS: Bool) -> AsyncThrowingStream<BenchChunk, any Error> {
        let body: [String: Any] = [
            "model": model, "prompt": r.prompt.map(Int.init), "max_tokens": r.outputLen, "temperature": 0,
            "stream": true, "ignore_eos": ignoreEOS, "stream_options": ["include_usage": true],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        let payloads = client.serverSentEvents(post: "/v1/completions", body: data)
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var prompt: Int?, cached: Int?, output: Int?
                    for try await p in payloads {
                        guard let obj = try? JSONSerialization.jsonObject(with: Data(p.utf8)) as? [String: Any] else { continue }
                        if let choices = obj["choices"] as? [[String: Any]], let text = choices.first?["text"] as? String, !text.isEmpty {
                            continuation.yield(.output(tokens: 1, ids: []))
                        }
                        if let usage = obj["usage"] as? [String: Any] {
                            prompt = usage["prompt_tokens"] as? Int
                            output = usage["completion_tokens"] as? Int
                            cached = (usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
                        }
                        // llama-server reports its prompt-cache reuse under `timings`.
                        if cached == nil, let timings = obj["timings"] as? [String: Any], let n = timings["cache_n"] as? Int {
                            cached = n
                        }
                    }
                    continuation.yield(.done(promptTokens: prompt, cachedTokens: cached, outputTokens: output))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
