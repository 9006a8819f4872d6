import Foundation
import Profiler
import Testing
@testable import Remote

/// The wire formats the cockpit reads: `/v1/events` lines and chat completion chunks.
@Suite("events and chat streams")
struct StreamTests {
    @Test func eventsLines() throws {
        let h = try EventsCodec.header(#"{"kind":"ringside","model":"tiny-ring","page_size":16,"expert_layers":2,"experts":16,"now":123}"#)
        #expect(h == EventsHeader(model: "tiny-ring", pageSize: 16, expertLayers: 2, experts: 16, now: 123))
        let b = try EventsCodec.batch(#"{"now":5000,"dropped":7,"events":[[100,0,1,1,0,42,3,2,0],[200,2,1,0,8,0,5,1,9]]}"#)
        #expect(b.now == 5000 && b.dropped == 7)
        #expect(b.events == [
            Event(time: 100, kind: .begin, lane: .device, span: .decode, metric: .radixQueryTokens, batch: 42, value: 3, a: 2, b: 0),
            Event(time: 200, kind: .counter, lane: .device, span: .prefill, metric: .expertTokens, batch: 0, value: 5, a: 1, b: 9),
        ])
        #expect(try EventsCodec.batch(#"{"now":1,"dropped":0,"events":[]}"#).events.isEmpty)
        for bad in [#"{"now":1,"dropped":0,"events":[[1,9,0,0,0,0,0,0,0]]}"#, #"{"now":1,"dropped":0,"events":[[1,0,0,0]]}"#,
                    #"{"now":1,"dropped":0,"events":[[1,0,0,0,0,0,0,0,0]"#, "", "{}", #"{"now":-"#,
                    #"{"now":1,"dropped":0,"events":[[99999999999999999999999,0,0,0,0,0,0,0,0]]}"#] {
            #expect(throws: RemoteError.self) { try EventsCodec.batch(bad[...]) }
        }
        #expect(throws: RemoteError.self) { try EventsCodec.header(#"{"kind":"vllm"}"#) }
    }

    @Test func clockMappingTakesTheSmallestDelay() {
        var c = ClockMapping()
        c.observe(serverNow: 1_000, localNow: 5_300)
        c.observe(serverNow: 2_000, localNow: 6_100)
        c.observe(serverNow: 3_000, localNow: 7_200)
        #expect(c.offset == 4_100)
        #expect(c.local(2_500) == 6_600)
    }

    @Test func chatChunksKeepReasoningApart() {
        var p = SSEParser()
        let stream = """
        data: {"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Let me"}}]}

        data: {"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"reasoning_content":" think."}}]}\r
        \r
        data: {"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Paris"},"finish_reason":null}]}

        data: {"id":"1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}

        data: {"id":"1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":8}}}

        data: [DONE]


        """
        // Fed in awkward pieces, as a network hands them over.
        let bytes = Array(stream.utf8)
        var payloads: [String] = []
        for i in stride(from: 0, to: bytes.count, by: 7) { payloads += p.feed(Array(bytes[i ..< min(bytes.count, i + 7)])) }
        #expect(payloads.count == 6 && payloads.last == "[DONE]")
        let chunks = payloads.dropLast().compactMap(ChatChunk.init)
        #expect(chunks.map(\.reasoning) == ["Let me", " think.", "", "", ""])
        #expect(chunks.map(\.content) == ["", "", "Paris", "", ""])
        #expect(chunks[3].finish == "length")
        #expect(chunks[4].usage?.promptTokens == 12 && chunks[4].usage?.cachedPromptTokens == 8 && chunks[4].usage?.completionTokens == 5)
        #expect(ChatChunk("not json") == nil)
    }

    @Test func badURLsAreRefused() {
        for u in ["", "localhost:30000", "ftp://x", "http://"] {
            #expect(throws: RemoteError.self) { try RemoteClient(url: u) }
        }
        #expect((try? RemoteClient(url: "http://127.0.0.1:30000/v1/"))?.base == "http://127.0.0.1:30000")
    }
}
