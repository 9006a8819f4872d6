import Engine
import Foundation
import Testing

/// Gemma 3 against llama.cpp on the same file (tools/llama-cpp/gemma_greedy.py). llama.cpp
/// quantizes activations to 8 bits and keeps an f16 KV cache, so only the first tokens and
/// the first-step ranking are compared.
@Suite("Gemma 3 forward pass agrees with llama.cpp")
struct GemmaForwardTests {
    struct Case: Decodable { let prompt: String; let prompt_ids: [Int32]; let greedy_ids: [Int32]; let first_top5_logprobs: [[Double]] }
    struct File: Decodable { let cases: [Case] }

    /// llama.cpp's 8-bit activations leave its first-step log-probabilities up to 0.14 from
    /// ours on these short prompts (measured: 0.11, 0.04, 0.04 for the best token), and ranks
    /// 4-5 swap where they are 0.1 apart; a wrong layer or norm moves them by whole nats.
    static let logprobTolerance = 0.2

    @Test func greedyContinuations() throws {
        let url = Bundle.module.url(forResource: "Fixtures/gemma3_llamacpp_greedy", withExtension: "json")!
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        let loaded = try LoadedModel(path: TestModels.gemmaPath.get())
        let generator = Generator(loaded, kvTokens: 256)
        for c in cases {
            let ids = loaded.rawPrompt(c.prompt)
            #expect(ids == c.prompt_ids, "\(c.prompt): BOS + SentencePiece ids")
            let r = try generator.generate(prompt: ids, params: SamplingParams(maxTokens: 8, ignoreEOS: true))
            #expect(r.outputIDs == Array(c.greedy_ids.prefix(8)), "\(c.prompt): \(r.text)")
            // The first step's three best tokens and their log-probabilities, as llama.cpp has them.
            let runner = SequenceRunner(model: loaded.model, kvTokens: 256)
            let (_, top) = Sampler.logprobs(try runner.extend(ids).row(0), of: 0, top: 3)
            #expect(top.map(\.0) == c.first_top5_logprobs.prefix(3).map { Int32($0[0]) }, "\(c.prompt): top-3 ids")
            let worst = zip(top, c.first_top5_logprobs).map { abs(Double($0.1) - $1[1]) }.max() ?? .infinity
            #expect(worst < Self.logprobTolerance, "\(c.prompt): top-3 log-probabilities differ by up to \(worst)")
        }
    }
}
