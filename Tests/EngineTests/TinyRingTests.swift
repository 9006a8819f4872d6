@testable import Engine
import Foundation
import Testing

/// tiny-ring (models/tiny-ring), the BailingMoeV2 model trained by tools/tiny_ring/train.py.
@Suite("tiny-ring", .serialized)
struct TinyRingTests {
    static let loaded = Result { try LoadedModel(path: ModelCatalog().resolve("tiny-ring")) }

    @Test func loadsAsAThinkingMixtureOfExperts() throws {
        let m = try Self.loaded.get()
        #expect(m.model.info.architecture == "bailingmoe2")
        #expect(m.model.info.experts == 16)
        #expect(m.reasoningStyle == .forced, "the Ring template opens <think> itself")
        let prompt = try m.chatTemplate!.render(messages: [ChatMessage(role: "user", content: "What is 1 + 2?")],
                                                addGenerationPrompt: true, bosToken: nil, eosToken: nil)
        #expect(prompt.hasPrefix("<role>HUMAN</role>What is 1 + 2?") && prompt.hasSuffix("<role>ASSISTANT</role><think>\n"), "\(prompt)")
    }

    @Test(arguments: MoEBackend.allCases)
    func answersArithmeticWithAThinkingTrace(_ backend: MoEBackend) async throws {
        var config = EngineConfig()
        config.kvCacheTokens = 4096
        config.moeBackend = backend
        let engine = Engine(try Self.loaded.get(), config: config)
        defer { engine.shutdown() }
        let r = try await collect(engine.submit(GenerateRequest(input: .chat([ChatMessage(role: "user", content: "What is 47 + 385?")]),
                                                                params: SamplingParams(maxTokens: 200))))
        // The working is column addition ending in the sum; the answer is the sentence alone.
        #expect(r.reasoning.hasPrefix("Line up the digits: 047 + 385.") && r.reasoning.contains("So 47 + 385 = 432."), "\(r.reasoning)")
        #expect(r.text == "The answer is 432.", "answer: \(r.text)")
    }
}
