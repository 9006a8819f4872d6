import BenchKit
import Remote
import Foundation
import Testing

@Suite("bench HTTP target")
struct HTTPTargetTests {
    static func stream(_ events: [String]) -> [String] {
        ["HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"] + events.map { "data: \($0)\n\n" }
    }

    func chunks(_ server: OneShotServer) async throws -> (chunks: [BenchChunk], request: [String: Any]) {
        let url = "http://127.0.0.1:\(server.port)"
        let target = HTTPTarget(client: try RemoteClient(url: url), url: url, model: "m")
        var got: [BenchChunk] = []
        for try await c in target.send(BenchRequest(prompt: [5, 6, 7], outputLen: 2), ignoreEOS: true) { got.append(c) }
        let raw = server.finish()
        let body = raw[raw.range(of: "\r\n\r\n")!.upperBound...]
        return (got, try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any])
    }

    @Test func textChunksAndOpenAIUsageBecomeOutputAndDone() async throws {
        let server = try OneShotServer(pieces: Self.stream([
            #"{"choices":[{"text":"Hel"}]}"#, #"{"choices":[{"text":""}]}"#, #"{"choices":[{"text":"lo"}]}"#,
            #"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":1}}}"#,
            "[DONE]",
        ]))
        let (chunks, request) = try await chunks(server)
        #expect(chunks.count == 3)
        guard case .output(1, [])? = chunks.first, case let .done(prompt, cached, output)? = chunks.last else {
            Issue.record("unexpected chunks \(chunks)")
            return
        }
        #expect(prompt == 3 && cached == 1 && output == 2)
        #expect(request["prompt"] as? [Int] == [5, 6, 7] && request["max_tokens"] as? Int == 2)
        #expect(request["stream"] as? Bool == true && request["ignore_eos"] as? Bool == true && request["model"] as? String == "m")
    }

    @Test func llamaServersCacheCountStandsInForCachedTokens() async throws {
        let server = try OneShotServer(pieces: Self.stream([
            #"{"choices":[{"text":"x"}],"timings":{"cache_n":12}}"#, "[DONE]",
        ]))
        let (chunks, _) = try await chunks(server)
        guard case let .done(prompt, cached, output)? = chunks.last else {
            Issue.record("no done chunk in \(chunks)")
            return
        }
        #expect(prompt == nil && cached == 12 && output == nil)
    }
}
