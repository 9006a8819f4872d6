import Foundation
import Jinja
import Testing
@testable import Engine

/// The engine's side of chat templates: plain chat turns and the built-in Gemma 3 template.
@Suite struct ChatMessageTests {
    /// The published template, as `tools/chat-templates/render_templates.py` renders it.
    static let gemma3Fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../JinjaTests/Fixtures/templates/gemma3.jinja").standardized

    @Test func gemma3FallbackIsTheFixtureTemplate() throws {
        let fixture = try String(contentsOf: Self.gemma3Fixture, encoding: .utf8)
        #expect(ChatTemplate.gemma3Source.utf8.elementsEqual(fixture.utf8))
        let prompt = try ChatTemplate(ChatTemplate.gemma3Source).render(
            messages: [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: " Hi ")],
            addGenerationPrompt: true, bosToken: "<bos>", eosToken: "<eos>")
        #expect(prompt == "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test func messagesEncodeAsOrderedObjects() throws {
        let message = ChatMessage(role: "user", content: "hi")
        #expect(message.jinjaValue.jsonString() == #"{"role": "user", "content": "hi"}"#)
        let decoded = try JSONDecoder().decode(ChatMessage.self, from: try JSONEncoder().encode(message))
        #expect(decoded == message)
    }

    @Test func chatTurnsRenderLikeTheirObjects() throws {
        let template = try ChatTemplate("{% for m in messages %}[{{ m.role }}|{{ m.content }}]{% endfor %}{{ eos_token }}")
        let turns = [ChatMessage(role: "user", content: "a"), ChatMessage(role: "assistant", content: "b")]
        let viaTurns = try template.render(messages: turns, addGenerationPrompt: false, bosToken: nil, eosToken: "</s>")
        #expect(viaTurns == "[user|a][assistant|b]</s>")
    }
}
