import Foundation
import Testing
@testable import Jinja

/// llama.cpp's real-world chat templates (fetched into the cache by `make llama-vocab`, not
/// committed) rendered over tool calls and reasoning turns, byte for byte against jinja2 with
/// transformers' settings (`tools/chat-templates/render_llama_templates.py`, which wrote
/// Fixtures/llama_templates.json). Rendered through the same call `ringside template` makes.
@Suite struct LlamaTemplateTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let template: String
        let conversation: String
        let context: [String: JinjaValue]
        let expected: String?
        var testDescription: String { "\(template)/\(conversation)" }
    }

    static let fixture: (epoch: Int, sizes: [String: Int], cases: [Case])? = try? load()

    static func load() throws -> (epoch: Int, sizes: [String: Int], cases: [Case]) {
        guard let url = Bundle.module.url(forResource: "llama_templates", withExtension: "json", subdirectory: "Fixtures") else {
            throw ChatTemplateError.invalidJSON("llama_templates.json missing from the test bundle")
        }
        let root = try JinjaValue(json: String(decoding: try Data(contentsOf: url), as: UTF8.self))
        guard case .int(let epoch)? = root["source_date_epoch"], case .object(let templates)? = root["templates"],
              case .array(let raw)? = root["cases"] else { throw ChatTemplateError.invalidJSON("malformed fixture") }
        var sizes: [String: Int] = [:]
        for (name, info) in templates.entries { if case .int(let n)? = info["bytes"] { sizes[name] = n } }
        let cases = try raw.map { c -> Case in
            guard let template = c["template"]?.stringValue, let conversation = c["conversation"]?.stringValue,
                  case .object(let context)? = c["context"] else { throw ChatTemplateError.invalidJSON("malformed case") }
            var variables: [String: JinjaValue] = [:]
            for (key, value) in context.entries { variables[key] = value }
            return Case(template: template, conversation: conversation, context: variables, expected: c["expected"]?.stringValue)
        }
        return (epoch, sizes, cases)
    }

    static var templateDirectory: String {
        ProcessInfo.processInfo.environment["RINGSIDE_LLAMA_TEMPLATES"]
            ?? NSHomeDirectory() + "/.cache/ringside/llama.cpp-0.3.36/models/templates"
    }

    @Test func fixtureCoversADozenTemplatesWithToolsAndReasoning() throws {
        let f = try #require(Self.fixture)
        #expect(f.sizes.count >= 12)
        #expect(f.cases.filter { $0.expected != nil }.count >= 70)
        #expect(Set(f.cases.map(\.conversation)).isSuperset(of: ["tool_round_trip", "reasoning_turns", "reasoning_then_tool"]))
    }

    @Test(arguments: fixture?.cases ?? [])
    func rendersLikeJinja2(_ c: Case) throws {
        let f = try #require(Self.fixture)
        let path = Self.templateDirectory + "/\(c.template).jinja"
        guard let data = FileManager.default.contents(atPath: path) else {
            Issue.record("missing \(path): run `make llama-vocab` (part of `make test`)")
            return
        }
        try #require(data.count == f.sizes[c.template], "\(path) is not the copy the goldens were rendered from")
        setenv("SOURCE_DATE_EPOCH", String(f.epoch), 1)
        let template = try ChatTemplate(String(decoding: data, as: UTF8.self))
        var extra = c.context
        for key in ["messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token"] { extra[key] = nil }
        var tools: [JinjaValue]?
        if case .array(let t)? = c.context["tools"] { tools = t }
        guard case .array(let messages)? = c.context["messages"] else { Issue.record("no messages"); return }
        let render = {
            try template.render(messages: messages, tools: tools,
                                addGenerationPrompt: c.context["add_generation_prompt"] == .bool(true),
                                bosToken: c.context["bos_token"]?.stringValue, eosToken: c.context["eos_token"]?.stringValue,
                                extra: extra)
        }
        if let expected = c.expected {
            let output = try render()
            #expect(output.utf8.elementsEqual(expected.utf8), "\(c.testDescription): got \(output.debugDescription)")
        } else {
            #expect(throws: (any Error).self, "jinja2 refused \(c.testDescription)") { _ = try render() }
        }
    }
}
