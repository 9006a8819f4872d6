import Engine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Streamed chat completions (`POST /v1/chat/completions`, `stream: true`) as the engine's
/// own `GenerationEvent`s, so the cockpit's chat pane reads a server the way it reads the
/// in-process engine: `delta.content` is text, `delta.reasoning_content` (SGLang, vLLM,
/// llama.cpp and Ringside with a reasoning parser) is reasoning, and the usage chunk
/// (`stream_options.include_usage`) with this client's own timings ends the stream.
extension RemoteClient {
    public func chat(model: String, messages: [ChatMessage], temperature: Double = 0, maxTokens: Int = 1024)
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        let body: [String: Any] = [
            "model": model, "stream": true, "stream_options": ["include_usage": true],
            "temperature": temperature, "max_tokens": maxTokens,
            "messages": messages.map { ["role": $0.role, "content": $0.content] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        let task = Task { [self] in
            let start = ContinuousClock.now
            var first: Double?
            do {
                // A first token may take long on a big prompt; 120 s of silence is a dead server.
                let body = streamBody(request("/v1/chat/completions", method: "POST", body: data, timeout: 30), idle: 120)
                var parser = SSEParser()
                var finish: FinishReason = .stop
                var usage: Usage?
                for try await chunk in body {
                    for payload in parser.feed(Array(chunk)) {
                        if payload == "[DONE]" { continue }
                        guard let c = ChatChunk(payload) else { throw RemoteError.malformed("a stream chunk is not JSON") }
                        if let e = c.error { throw RemoteError.status(500, e) }
                        if !c.content.isEmpty || !c.reasoning.isEmpty {
                            if first == nil { first = Self.seconds(ContinuousClock.now - start) }
                            continuation.yield(.delta(text: c.content, reasoning: c.reasoning, tokens: [0], logprobs: []))
                        }
                        if let f = c.finish { finish = f == "length" ? .length : .stop }
                        if let u = c.usage { usage = u }
                    }
                }
                let total = Self.seconds(ContinuousClock.now - start)
                let u = usage ?? Usage(promptTokens: 0, cachedPromptTokens: 0, completionTokens: 0)
                continuation.yield(.finished(reason: finish, usage: u, timings: Timings(queued: 0, firstToken: first ?? total, total: total)))
                continuation.finish()
            } catch is CancellationError {
                continuation.finish(throwing: CancellationError())
            } catch {
                continuation.finish(throwing: Task.isCancelled ? CancellationError() : Self.unreachable(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Splits a server-sent event stream into `data:` payloads (events end at a blank line; a
/// payload over several `data:` lines is joined with newlines).
public struct SSEParser: Sendable {
    var line: [UInt8] = []
    var data: [String] = []

    public init() {}

    public mutating func feed(_ bytes: [UInt8]) -> [String] {
        var out: [String] = []
        for b in bytes {
            if b == 10 {
                if line.last == 13 { line.removeLast() }
                if line.isEmpty {
                    if !data.isEmpty { out.append(data.joined(separator: "\n")) }
                    data = []
                } else if line.starts(with: Array("data:".utf8)) {
                    var d = line.dropFirst(5)
                    if d.first == 32 { d = d.dropFirst() }
                    data.append(String(decoding: d, as: UTF8.self))
                }
                line = []
            } else {
                line.append(b)
            }
        }
        return out
    }
}

/// What one chat completion chunk carries for the cockpit.
struct ChatChunk {
    var content = ""
    var reasoning = ""
    var finish: String?
    var usage: Usage?
    var error: String?

    init?(_ payload: String) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any] else { return nil }
        if let e = o["error"] as? [String: Any] { error = e["message"] as? String ?? "error" }
        if let choices = o["choices"] as? [[String: Any]], let c = choices.first {
            if let d = c["delta"] as? [String: Any] {
                content = d["content"] as? String ?? ""
                reasoning = d["reasoning_content"] as? String ?? d["reasoning"] as? String ?? ""
            }
            finish = c["finish_reason"] as? String
        }
        if let u = o["usage"] as? [String: Any], let p = u["prompt_tokens"] as? Int {
            let cached = (u["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int ?? 0
            usage = Usage(promptTokens: p, cachedPromptTokens: cached, completionTokens: u["completion_tokens"] as? Int ?? 0)
        }
    }
}
