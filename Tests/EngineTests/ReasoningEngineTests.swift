@testable import Engine
import Foundation
import Testing

/// The reasoning parser's edge cases, alone and end to end: Qwen3's optional thinking is
/// detected from the real qwen3-tiny folder (tokenizer and template), and a scripted network
/// under that tokenizer makes the engine stream exact `<think>` outputs.
@Suite("reasoning end to end", .serialized)
struct ReasoningEngineTests {
    static let question = [ChatMessage(role: "user", content: "What is 47 + 385?")]

    @Test(arguments: [1, 2, 5, 100])
    func aThinkThatNeverClosesIsAllReasoning(_ n: Int) {
        let optional = ReasoningParserTests.run(.optional, "<think>\nstill working on 47 + 38", chunks: n)
        #expect(optional.0 == "\nstill working on 47 + 38" && optional.1.isEmpty)
        let forced = ReasoningParserTests.run(.forced, "still working </think", chunks: n)
        #expect(forced.0 == "still working </think" && forced.1.isEmpty)
    }

    @Test(arguments: [1, 3, 100])
    func anEmptyThinkGivesEmptyReasoningAndTheWholeAnswer(_ n: Int) {
        for style in [ReasoningParser.Style.optional, .forced] {
            let r = ReasoningParserTests.run(style, "<think></think>\n\nYes, 432.", chunks: n)
            #expect(r.0.isEmpty && r.1 == "Yes, 432.", "\(style): \(r)")
        }
        let bare = ReasoningParserTests.run(.forced, "</think>Yes.", chunks: n)
        #expect(bare.0.isEmpty && bare.1 == "Yes.")
    }

    @Test func qwen3IsDetectedAsOptionalThinking() throws {
        let m = try ScriptedModel.qwen3.get()
        #expect(m.reasoningStyle == .optional)
        // Optional, not forced: the generation prompt leaves <think> to the model.
        let prompt = try m.chatTemplate!.render(messages: Self.question, addGenerationPrompt: true, bosToken: nil, eosToken: nil)
        #expect(prompt.hasSuffix("<|im_start|>assistant\n"), "\(prompt)")
        #expect(try LoadedModel(path: TestModels.smolPath.get()).reasoningStyle == nil, "SmolLM2 does not think")
    }

    /// Serves `output` (then end-of-turn) as the answer to `question` through the engine.
    static func serve(_ output: String, request: (inout GenerateRequest) -> Void = { _ in }) async throws -> Collected {
        let base = try ScriptedModel.qwen3.get()
        let promptLength = try base.chatPrompt(question).count
        let script = base.tokenizer.encode(output, addBOS: false, parseSpecial: true)
        let endOfTurn = try #require(base.tokenizer.id(of: "<|im_end|>"))
        let model = ScriptedModel(vocabSize: base.model.info.vocabSize, promptLength: promptLength, script: script, after: endOfTurn)
        var config = EngineConfig()
        config.kvCacheTokens = 1024
        let engine = Engine(model.serving(like: base), config: config)
        engine.scheduler.checkInvariants = true
        defer { engine.shutdown() }
        var req = GenerateRequest(input: .chat(question), params: SamplingParams(maxTokens: 100))
        request(&req)
        let c = try await collect(engine.submit(req))
        #expect(engine.scheduler.invariantViolations.isEmpty)
        return c
    }

    @Test func qwen3ThinkingIsSplitFromTheAnswer() async throws {
        let base = try ScriptedModel.qwen3.get()
        let output = "<think>\nLet me add: 47 + 385 = 432.\n</think>\n\nThe answer is 432."
        // The script really contains the tags as single tokens, as Qwen3 emits them.
        let ids = base.tokenizer.encode(output, addBOS: false, parseSpecial: true)
        let open = try #require(base.tokenizer.id(of: "<think>")), close = try #require(base.tokenizer.id(of: "</think>"))
        #expect(ids.contains(open) && ids.contains(close))
        let c = try await Self.serve(output)
        #expect(c.reasoning == "\nLet me add: 47 + 385 = 432.\n", "\(c)")
        #expect(c.text == "The answer is 432.")
        #expect(c.reason == .stop && c.ids == ids)

        // Without an opening tag there is no reasoning at all.
        let plain = try await Self.serve("The answer is 432.")
        #expect(plain.reasoning.isEmpty && plain.text == "The answer is 432.")
        // Token input is not a chat: the text comes back whole unless asked to separate.
        let raw = try await Self.serve(output) { $0.input = .tokens(try! base.chatPrompt(Self.question)) }
        #expect(raw.reasoning.isEmpty && raw.text == output)
        let asked = try await Self.serve(output) {
            $0.input = .tokens(try! base.chatPrompt(Self.question))
            $0.separateReasoning = true
        }
        #expect(asked.reasoning == c.reasoning && asked.text == c.text)
    }

    @Test func anEmptyThinkThroughTheEngine() async throws {
        let c = try await Self.serve("<think>\n\n</think>\n\nYes.")
        #expect(c.reasoning == "\n\n" && c.text == "Yes.", "\(c)")
        let tight = try await Self.serve("<think></think>Yes.")
        #expect(tight.reasoning.isEmpty && tight.text == "Yes.", "\(tight)")
    }

    @Test func reasoningCutOffByMaxTokensStaysReasoning() async throws {
        let c = try await Self.serve("<think>\nLet me add: 47 + 385 = 432.\n</think>\n\nThe answer is 432.") { $0.params.maxTokens = 6 }
        #expect(c.reason == .length && c.ids.count == 6)
        #expect(c.text.isEmpty && !c.reasoning.isEmpty && "\nLet me add: 47 + 385 = 432.\n".hasPrefix(c.reasoning), "\(c)")
    }

    @Test func aStopStringInsideTheReasoningEndsTheRequestThere() async throws {
        let c = try await Self.serve("<think>\nLet me add: 47 + 385 = 432.\n</think>\n\nThe answer is 432.") { $0.stop = ["= 432"] }
        #expect(c.reason == .stop)
        #expect(c.reasoning == "\nLet me add: 47 + 385 ", "\(c)")
        #expect(c.text.isEmpty, "nothing after the stop string, and no answer")
    }
}
