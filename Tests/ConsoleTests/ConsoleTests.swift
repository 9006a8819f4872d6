import Console
import Foundation
import Testing
@testable import Engine

@Suite("generate's report")
struct GenerateReportTests {
    /// A reasoning model's stream: two deltas (the first with logprobs), then the end.
    static var events: [GenerationEvent] {
        [.delta(text: "", reasoning: "2+2", tokens: [7, 8], logprobs: [
            TokenLogprob(id: 7, logprob: -0.25, top: [(7, -0.25), (9, -1.5)]),
            TokenLogprob(id: 8, logprob: -0.5, top: [(8, -0.5)]),
         ]),
         .delta(text: "4", reasoning: "", tokens: [10, 11], logprobs: []),
         .finished(reason: .length, usage: Usage(promptTokens: 5, cachedPromptTokens: 0, completionTokens: 4),
                   timings: Timings(queued: 0.001, firstToken: 0.25, total: 1.75))]
    }

    @Test func collectsTheStream() {
        var r = GenerateReport(model: "m", prompt_ids: [1, 2])
        for e in Self.events { r.add(e) }
        #expect(r.output_ids == [7, 8, 10, 11])
        #expect(r.text == "4" && r.reasoning == "2+2")
        #expect(r.first_top5_logprobs == [[7, -0.25], [9, -1.5]])
        #expect(r.finish_reason == "length" && r.prompt_tokens == 5 && r.completion_tokens == 4)
        #expect(r.ttft_ms == 250)
        // Three tokens after the first, in the 1.5 s after it.
        #expect(r.decode_tokens_per_s == 2)
    }

    @Test func jsonKeepsTheContractKeys() throws {
        var r = GenerateReport(model: "smollm2/x", prompt_ids: [1])
        for e in Self.events { r.add(e) }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["model", "prompt_ids", "output_ids", "text", "reasoning", "finish_reason", "prompt_tokens",
                                     "completion_tokens", "first_top5_logprobs", "ttft_ms", "decode_tokens_per_s"])
        #expect(r.json.hasPrefix(#"{"completion_tokens":4,"decode_tokens_per_s":2,"finish_reason":"length","#))
        #expect(r.json.contains(#""model":"smollm2/x""#), "slashes unescaped")
        #expect(!r.json.contains("\n"))
    }

    @Test func oneTokenHasNoDecodeSpeed() {
        var r = GenerateReport(model: "m", prompt_ids: [])
        r.add(.finished(reason: .stop, usage: Usage(promptTokens: 1, cachedPromptTokens: 0, completionTokens: 1),
                        timings: Timings(queued: 0, firstToken: 0.1, total: 0.1)))
        #expect(r.decode_tokens_per_s == 0)
        #expect(r.summary == "[1 prompt tokens, first token after 100 ms; 1 generated, 0.0 t/s decode; stop]")
    }
}

@Suite("terminal output")
struct TerminalOutputTests {
    @Test func reasoningIsDimmedOnATerminalAndOnStderrOtherwise() {
        let tty = StreamedText(stdoutIsTerminal: true), pipe = StreamedText(stdoutIsTerminal: false)
        #expect(tty.render(text: "4", reasoning: "2+2").stdout == "\u{1B}[2m2+2\u{1B}[0m4")
        #expect(tty.render(text: "4", reasoning: "2+2").stderr == "")
        #expect(pipe.render(text: "4", reasoning: "2+2") == ("4", "2+2"))
        #expect(pipe.render(text: "4", reasoning: "") == ("4", ""))
        #expect(tty.render(text: "4", reasoning: "") == ("4", ""))
    }

    @Test func progressLineFillsInProportion() {
        let line = ProgressBar.line((done: 30, failed: 2, tokens: 1000), total: 64, seconds: 2, tty: false, final: false)
        #expect(line == "[" + String(repeating: "#", count: 15) + String(repeating: ".", count: 15) + "] 32/64 requests  2.0 s  500 tok/s  2 failed\n")
        let partial = ProgressBar.line((done: 1, failed: 0, tokens: 0), total: 3, seconds: 0, tty: true, final: false)
        #expect(partial.hasPrefix("\r[" + String(repeating: "#", count: 10) + ".") && !partial.hasSuffix("\n"))
        let done = ProgressBar.line((done: 3, failed: 0, tokens: 9), total: 3, seconds: 3, tty: true, final: true)
        #expect(done == "\r[" + String(repeating: "#", count: 30) + "] 3/3 requests  3.0 s  3 tok/s\n")
    }
}

@Suite("models list")
struct ModelListingTests {
    @Test("one line per model: name and state in fixed columns, then the summary")
    func columns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-list-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pulled = CatalogEntry(name: "pulled-model", summary: "one we have", fileName: "a.gguf", sha256: "", parts: [])
        let absent = CatalogEntry(name: "a-model-name-longer-than-its-column", summary: "one we lack", fileName: "b.gguf", sha256: "", parts: [])
        let bundled = CatalogEntry(name: "tiny", summary: "in the repository", fileName: "c", sha256: "", parts: [], bundled: "models/tiny")
        FileManager.default.createFile(atPath: dir + "/a.gguf", contents: Data())
        let text = ModelListing.text(ModelCatalog(cacheDirectory: dir), entries: [pulled, absent, bundled])
        #expect(text == """
            cache: \(dir)
              pulled-model             installed   one we have
              a-model-name-longer-than-its-column not pulled  one we lack
              tiny                     bundled     in the repository

            """)
    }
}
