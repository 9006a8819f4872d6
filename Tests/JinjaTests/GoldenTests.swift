import Testing
@testable import Jinja

/// Byte-for-byte agreement with Python jinja2 configured like Hugging Face transformers.
@Suite struct GoldenTests {
    @Test func fixtureLoads() {
        #expect(GoldenFixture.loaded != nil)
        #expect(GoldenFixture.cases.count > 100)
    }

    @Test(arguments: GoldenFixture.cases)
    func rendersLikeJinja2(_ golden: GoldenCase) throws {
        switch golden.outcome {
        case .output(let expected):
            let template = try ChatTemplate(golden.source)
            let output = try template.render(golden.context)
            // Compare bytes: Swift's String == treats canonically equivalent text as equal.
            #expect(output.utf8.elementsEqual(expected.utf8), "\(firstDifference(output, expected))")
            if golden.simple { try checkConvenienceAPI(golden, template: template, expected: expected) }
        case .error(let kind, let message, let line):
            do {
                let output = try ChatTemplate(golden.source).render(golden.context)
                Issue.record("\(golden.name): expected \(kind) error, rendered \(output.debugDescription)")
            } catch let error as ChatTemplateError {
                switch (kind, error) {
                case ("raised", .raised(let m)): #expect(m == message)
                case ("syntax", .syntax(let l, _, _)): if let line { #expect(l == line, "\(error)") }
                case ("undefined", .undefined), ("type", .type), ("security", .security), ("limit", .limitExceeded):
                    break
                default: Issue.record("\(golden.name): expected \(kind) (\(message)), got \(error)")
                }
            }
        }
    }

    private func firstDifference(_ got: String, _ expected: String) -> String {
        let a = Array(got.unicodeScalars), b = Array(expected.unicodeScalars)
        var i = 0
        while i < a.count, i < b.count, a[i] == b[i] { i += 1 }
        func window(_ s: [Unicode.Scalar]) -> String {
            String(String.UnicodeScalarView(s[max(0, i - 40)..<min(s.count, i + 40)])).debugDescription
        }
        return "first difference at scalar \(i):\n  got      \(window(a))\n  expected \(window(b))"
    }

    /// The same render through `render(messages:addGenerationPrompt:bosToken:eosToken:extra:)`,
    /// which builds the context as transformers does.
    private func checkConvenienceAPI(_ golden: GoldenCase, template: ChatTemplate, expected: String) throws {
        guard case .array(let raw)? = golden.context["messages"] else { return }
        let messages = raw.compactMap { m -> JinjaValue? in
            guard let role = m["role"]?.stringValue, let content = m["content"]?.stringValue else { return nil }
            return .object([("role", .string(role)), ("content", .string(content))])
        }
        #expect(messages.count == raw.count)
        var extra = golden.context
        for key in ["messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token"] {
            extra[key] = nil
        }
        let output = try template.render(messages: messages,
                                         addGenerationPrompt: golden.context["add_generation_prompt"] == .bool(true),
                                         bosToken: golden.context["bos_token"]?.stringValue,
                                         eosToken: golden.context["eos_token"]?.stringValue, extra: extra)
        #expect(output.utf8.elementsEqual(expected.utf8), "via the messages API: \(firstDifference(output, expected))")
    }
}
