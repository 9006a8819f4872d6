import Engine
import Foundation
import Testing

/// End to end on SmolLM2: template, tokenizer, forward pass and sampling together.
/// Serialized: the tests share one loaded model, and a model runs one forward pass at a time.
@Suite("generation", .serialized)
struct GenerationTests {
    static let loaded = Result { try LoadedModel(path: TestModels.smolPath.get()) }

    @Test("prompts render and tokenize as the reference's", arguments: ["smollm2-greedy-capital", "smollm2-greedy-swift", "smollm2-greedy-chat"])
    func endToEnd(name: String) throws {
        let ref = try ReferenceOutput.load(name)
        let loaded = try Self.loaded.get()
        let ids = ref.chat ? try loaded.chatPrompt([ChatMessage(role: "user", content: ref.prompt)]) : loaded.rawPrompt(ref.prompt)
        #expect(ids == ref.prompt_ids)
        let r = try Generator(loaded, kvTokens: 256).generate(
            prompt: ids, params: SamplingParams(maxTokens: ref.generated_ids.count, ignoreEOS: true))
        #expect(r.outputIDs == ref.generated_ids)
        #expect(r.text == loaded.tokenizer.decode(ref.generated_ids, skipSpecial: true))
    }

    @Test func stopsAtEndOfTurn() throws {
        let loaded = try Self.loaded.get()
        let ids = try loaded.chatPrompt([ChatMessage(role: "user", content: "What is the capital of France?")])
        var streamed = ""
        let r = try Generator(loaded, kvTokens: 256).generate(prompt: ids, params: SamplingParams(maxTokens: 40)) {
            streamed += $0
            return true
        }
        #expect(r.finishReason == .stop)
        #expect(r.text == "The capital of France is Paris.")
        #expect(streamed == r.text)
        #expect(loaded.stopTokens.contains(2))
    }

    @Test func seededSamplingIsReproducible() throws {
        let loaded = try Self.loaded.get()
        let gen = Generator(loaded, kvTokens: 256)
        let ids = loaded.rawPrompt("Once upon a time")
        let p = SamplingParams(temperature: 0.9, topP: 0.95, seed: 42, maxTokens: 12, ignoreEOS: true)
        let a = try gen.generate(prompt: ids, params: p)
        let b = try gen.generate(prompt: ids, params: p)
        var q = p
        q.seed = 43
        let c = try gen.generate(prompt: ids, params: q)
        #expect(a.outputIDs == b.outputIDs)
        #expect(a.outputIDs != c.outputIDs)
        var k1 = p
        k1.topK = 1
        let greedy = try gen.generate(prompt: ids, params: SamplingParams(maxTokens: 12, ignoreEOS: true))
        #expect(try gen.generate(prompt: ids, params: k1).outputIDs == greedy.outputIDs)
    }

    @Test func contextAndCacheLimitsAreErrorsNotCrashes() throws {
        let loaded = try Self.loaded.get()
        let runner = SequenceRunner(model: loaded.model, kvTokens: 32)
        #expect(throws: SequenceError.contextFull(needed: 40, limit: 32)) { try runner.extend([Int32](repeating: 504, count: 40)) }
        #expect(throws: SequenceError.invalidToken(49152, vocabSize: 49152)) { try runner.extend([49152]) }
        #expect(runner.length == 0)
        _ = try runner.extend([Int32](repeating: 504, count: 32))
        #expect(throws: SequenceError.self) { try runner.extend([504]) }
    }
}
