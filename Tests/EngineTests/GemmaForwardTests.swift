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

    struct LongCase: Decodable { let command: String; let prompt: String; let prompt_ids: [Int32]; let first_top10_logprobs: [[Double]] }

    /// Measured on this prompt (AMD EPYC, AVX2): our best token's log-probability is 0.020 from
    /// llama.cpp's (int16 and fp32 activations alike), the next four up to 0.21 (its 8-bit
    /// activations and f16 KV cache move the tail more than the head). With the sliding window
    /// ignored (every layer global) the best token is another one and the answer's
    /// log-probability moves by 1.29, while the short prompts above still pass.
    static let longContextBest = 0.05, longContextTail = 0.3

    /// A prompt of 2,331 tokens, four and a half sliding windows long, whose answer sits in its
    /// first lines: the sliding layers (512 positions) cannot see it, the global ones must. The
    /// first step's top-5 log-probabilities are compared with llama.cpp's on the same file
    /// (tools/llama-cpp/gemma_long_context.py; the fixture keeps the command). Prefill runs in
    /// chunks of 512, so windows also cross chunk boundaries.
    @Test("a prompt 4.5 windows long: first-step top-5 log-probabilities as llama.cpp has them")
    func longContext() throws {
        let url = Bundle.module.url(forResource: "Fixtures/gemma3_llamacpp_long_context", withExtension: "json")!
        let c = try JSONDecoder().decode(LongCase.self, from: Data(contentsOf: url))
        let loaded = try LoadedModel(path: TestModels.gemmaPath.get())
        let ids = loaded.rawPrompt(c.prompt)
        #expect(ids == c.prompt_ids, "BOS + SentencePiece ids")
        #expect(ids.count > 4 * 512)
        let runner = SequenceRunner(model: loaded.model, kvTokens: ids.count + 16)
        let (_, top) = Sampler.logprobs(try runner.extend(ids).row(0), of: 0, top: 5)
        let theirs = Dictionary(c.first_top10_logprobs.map { (Int32($0[0]), $0[1]) }, uniquingKeysWith: { a, _ in a })
        let best = try #require(top.first)
        #expect(best.0 == Int32(c.first_top10_logprobs[0][0]), "best token")
        let bestDiff = abs(Double(best.1) - c.first_top10_logprobs[0][1])
        #expect(bestDiff < Self.longContextBest, "best token: log-probability \(best.1) vs llama.cpp's \(c.first_top10_logprobs[0][1])")
        var worst = 0.0
        for (id, lp) in top {
            let ref = try #require(theirs[id], "token \(id) (ours at \(lp)) is not in llama.cpp's top 10")
            worst = max(worst, abs(Double(lp) - ref))
        }
        #expect(worst < Self.longContextTail, "top-5 log-probabilities differ by up to \(worst)")
    }
}
