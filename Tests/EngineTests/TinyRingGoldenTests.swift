@testable import Engine
import Foundation
import Testing

/// tiny-ring (models/tiny-ring) against the goldens of its own training script's independent
/// numpy forward pass (Tests/EngineTests/Fixtures/tiny-ring/README.md).
struct TinyRingGolden: Decodable {
    struct Message: Decodable { let role: String; let content: String }
    struct Prompt: Decodable {
        let messages: [Message]
        let prompt_text: String
        let prompt_ids: [Int32]
        let last_logits: [Float]
        let greedy_ids: [Int32]
    }
    struct AllPositions: Decodable { let prompt_index: Int; let logits: [[Float]] }
    struct Routing: Decodable {
        struct Layer: Decodable { let layer: Int; let experts: [[Int32]]; let weights: [[Float]] }
        let prompt_index: Int
        let layers: [Layer]
    }

    let prompts: [Prompt]
    let all_position_logits: AllPositions
    let routing: Routing

    static func load() throws -> TinyRingGolden {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny-ring/golden", withExtension: "json"))
        return try JSONDecoder().decode(TinyRingGolden.self, from: Data(contentsOf: url))
    }
}

@Suite("tiny-ring goldens", .serialized)
struct TinyRingGoldenTests {
    /// Its own copy: a model is not reentrant and the other tiny-ring suite may run alongside.
    static let loaded = Result { try LoadedModel(path: ModelCatalog().resolve("tiny-ring")) }
    @Test func templateAndTokenizerReproduceThePrompts() throws {
        let m = try Self.loaded.get(), g = try TinyRingGolden.load()
        for p in g.prompts {
            let messages = p.messages.map { ChatMessage(role: $0.role, content: $0.content) }
            let text = try m.chatTemplate!.render(messages: messages, addGenerationPrompt: true, bosToken: nil, eosToken: nil)
            #expect(text == p.prompt_text)
            #expect(try m.chatPrompt(messages) == p.prompt_ids)
        }
        #expect(m.reasoningStyle == .forced, "the Ring template opens <think> itself")
    }

    @Test(arguments: MoEBackend.allCases)
    func logitsMatchTheIndependentForwardPass(_ backend: MoEBackend) throws {
        let m = try Self.loaded.get(), g = try TinyRingGolden.load()
        (m.model as? MixtureOfExperts)?.moeBackend = backend
        defer { (m.model as? MixtureOfExperts)?.moeBackend = .grouped }
        for (i, p) in g.prompts.enumerated() {
            // The reference's precision: fp32 activations and KV.
            let runner = SequenceRunner(model: m.model, kvTokens: 512, activations: .fp32)
            let all = i == g.all_position_logits.prompt_index
            let got = try runner.extend(p.prompt_ids, allLogits: all)
            let last = got.row(got.rows - 1)
            let worst = zip(last, p.last_logits).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-3, "prompt \(i): max difference \(worst)")
            if all {
                for (r, want) in g.all_position_logits.logits.enumerated() {
                    let w = zip(got.row(r), want).map { abs($0 - $1) }.max()!
                    #expect(w < 1e-3, "prompt \(i) position \(r): max difference \(w)")
                }
            }
        }
    }

    @Test func routingMatchesExpertForExpert() throws {
        let m = try Self.loaded.get(), g = try TinyRingGolden.load()
        let decoder = try #require(m.model as? DecoderModel)
        let p = g.prompts[g.routing.prompt_index]
        _ = try SequenceRunner(model: decoder, kvTokens: 512, activations: .fp32).extend(p.prompt_ids)
        for want in g.routing.layers {
            guard case .moe(let layer) = decoder.layers[want.layer].ffn else {
                Issue.record("layer \(want.layer) is not MoE")
                continue
            }
            let k = layer.router.topK
            for t in want.experts.indices {
                let ids = (0 ..< k).map { layer.ids[t * k + $0] }
                let weights = (0 ..< k).map { layer.weights.pointer[t * k + $0] }
                #expect(Set(ids) == Set(want.experts[t]), "layer \(want.layer) token \(t)")
                for (j, id) in want.experts[t].enumerated() {
                    if let at = ids.firstIndex(of: id) { #expect(abs(weights[at] - want.weights[t][j]) < 1e-4) }
                }
            }
        }
    }

    @Test func greedyIdsAloneAndBatchedWithBothBackends() async throws {
        let g = try TinyRingGolden.load()
        let prompts = g.prompts.map { HFGolden.Prompt(prompt_text: nil, prompt_ids: $0.prompt_ids, logits: nil, greedy_ids: $0.greedy_ids) }
        try await HFChecks.greedy(try Self.loaded.get(), prompts)
    }

    @Test func llamaCppConversionGivesTheSameGreedyIds() async throws {
        let path = try #require(Bundle.module.url(forResource: "Fixtures/tiny-ring/tiny-ring.f32", withExtension: "gguf")).path
        let gguf = try LoadedModel(path: path)
        #expect(gguf.model.info.architecture == "bailingmoe2")
        let g = try TinyRingGolden.load()
        for p in g.prompts {
            #expect(try gguf.chatPrompt(p.messages.map { ChatMessage(role: $0.role, content: $0.content) }) == p.prompt_ids)
        }
        let prompts = g.prompts.map { HFGolden.Prompt(prompt_text: nil, prompt_ids: $0.prompt_ids, logits: nil, greedy_ids: $0.greedy_ids) }
        try await HFChecks.greedy(gguf, prompts)
    }
}
