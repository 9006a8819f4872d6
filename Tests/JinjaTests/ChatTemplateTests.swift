import Testing
@testable import Jinja

@Suite struct ChatTemplateAPITests {
    @Test func parsedTemplateRendersRepeatedlyAndConcurrently() async throws {
        let template = try ChatTemplate(try #require(GoldenFixture.templates["gemma3"]))
        let messages: [JinjaValue] = [["role": "user", "content": "Hello"]]
        let expected = try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<bos>", eosToken: nil)
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<bos>", eosToken: nil)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outputs.count == 16)
        #expect(outputs.allSatisfy { $0 == expected })
    }

    @Test func richMessagesAndToolsMatchGolden() throws {
        let golden = try #require(GoldenFixture.cases.first { $0.name == "qwen3/tool_calls/agp=true" })
        guard case .output(let expected) = golden.outcome, case .array(let messages)? = golden.context["messages"],
              case .array(let tools)? = golden.context["tools"] else {
            Issue.record("unexpected fixture shape")
            return
        }
        let output = try ChatTemplate(golden.source).render(
            messages: messages, tools: tools, addGenerationPrompt: true, bosToken: nil, eosToken: "<|im_end|>")
        #expect(output.utf8.elementsEqual(expected.utf8))
    }

    @Test func contextMirrorsTransformers() {
        let context = ChatTemplate.context(messages: [], addGenerationPrompt: false, bosToken: nil, eosToken: "</s>",
                                           extra: ["enable_thinking": false, "tools": ["x"]])
        #expect(context["documents"] == JinjaValue.none)
        #expect(context["bos_token"] == nil)
        #expect(context["eos_token"] == "</s>")
        #expect(context["tools"] == ["x"])
        #expect(context["enable_thinking"] == false)
    }

    @Test func raiseExceptionCarriesTheMessage() throws {
        let template = try ChatTemplate("{{ raise_exception('Only ' ~ 2 ~ ' roles') }}")
        #expect(throws: ChatTemplateError.raised("Only 2 roles")) { try template.render([:]) }
    }
}

@Suite struct ChatTemplateErrorTests {
    private func syntaxLocation(_ source: String) -> (line: Int, column: Int)? {
        do {
            _ = try ChatTemplate(source)
        } catch ChatTemplateError.syntax(let line, let column, _) {
            return (line, column)
        } catch {
            Issue.record("expected a syntax error, got \(error)")
        }
        return nil
    }

    @Test func syntaxErrorsHaveLineAndColumn() throws {
        let location = try #require(syntaxLocation("ok\n  {{ x + }}"))
        #expect(location.line == 2)
        #expect(location.column == 10)
        #expect(syntaxLocation("{% if a %}\n{% else %}\n{% else %}{% endif %}")?.line == 3)
        #expect(syntaxLocation("{{ 'never closed }}")?.column == 4)
    }

    @Test(arguments: [
        "{% include 'other.jinja' %}",
        "{% extends 'base' %}",
        "{% for x in xs recursive %}{% endfor %}",
        "{{ f(*args) }}",
    ])
    func unsupportedTagsFailAtParse(_ source: String) {
        #expect {
            _ = try ChatTemplate(source)
        } throws: { error in
            guard case ChatTemplateError.unsupported = error else { return false }
            return true
        }
    }

    @Test(arguments: [
        ("{{ 'text' | wordwrap(5) }}", "filter 'wordwrap'"),
        ("{{ 1 is frobnicated }}", "test 'frobnicated'"),
        ("{{ 'a'.encode('utf-8') }}", "'encode'"),
    ])
    func unsupportedFeaturesNameTheConstruct(_ source: String, _ name: String) throws {
        let template = try ChatTemplate(source)
        do {
            _ = try template.render([:])
            Issue.record("expected an error")
        } catch let error as ChatTemplateError {
            #expect(error.description.contains(name), "\(error)")
        }
    }

    /// Every prefix of a real template either parses or fails with a typed error — never a crash.
    @Test func truncatedTemplatesNeverCrash() throws {
        let source = try #require(GoldenFixture.templates["qwen3"]).unicodeScalars.map { $0 }
        let messages: JinjaValue = [["role": "user", "content": "hi"], ["role": "assistant", "content": "<think>x</think>y"]]
        var parsed = 0
        for end in stride(from: 0, through: source.count, by: 3) {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: source[..<end])
            do {
                let template = try ChatTemplate(String(text))
                parsed += 1
                _ = try? template.render(["messages": messages, "add_generation_prompt": true])
            } catch is ChatTemplateError {
                continue
            }
        }
        #expect(parsed > 0)
    }

    @Test func runawayTemplatesHitLimits() throws {
        let limits = RenderLimits(maxLoopIterations: 10_000, maxCallDepth: 20, maxOutputBytes: 1 << 16, maxRange: 1000)
        let sources = [
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
            "{{ 'x' * 1000000 }}",
            "{% for i in range(1000) %}{{ 'y' * 1000 }}{% endfor %}",
            "{{ range(5000) | length }}",
        ]
        for source in sources {
            let template = try ChatTemplate(source, limits: limits)
            #expect("\(source)") {
                _ = try template.render([:])
            } throws: { error in
                guard case ChatTemplateError.limitExceeded = error else { return false }
                return true
            }
        }
    }

    @Test func pathologicalNestingIsASyntaxErrorNotAStackOverflow() {
        for source in ["{{ " + String(repeating: "(", count: 5000) + "1 }}", "{{ " + String(repeating: "[", count: 5000) + " }}",
                       String(repeating: "{% if true %}", count: 2000), "{{ " + String(repeating: "not ", count: 5000) + "x }}",
                       "{{ " + String(repeating: "-", count: 5000) + "1 }}", "{{ x" + String(repeating: "|trim", count: 5000) + " }}",
                       "{{ 1" + String(repeating: " + 1", count: 5000) + " }}", "{{ x" + String(repeating: ".a", count: 5000) + " }}"] {
            #expect(throws: ChatTemplateError.self) { _ = try ChatTemplate(source) }
        }
        #expect(throws: ChatTemplateError.self) { _ = try JinjaValue(json: String(repeating: "[", count: 10_000)) }
    }

    /// The deepest nesting the limits allow must still fit the stack of a test-pool thread.
    @Test func deepestAllowedNestingRenders() throws {
        let deepExpression = String(repeating: "(1 + ", count: 40) + "1" + String(repeating: ")", count: 40)
        let source = "{% macro f(n) %}{% if n > 0 %}{% for i in [1] %}{% if true %}{{ f(n - 1) }}{% endif %}{% endfor %}"
            + "{% else %}{{ \(deepExpression) }}{% endif %}{% endmacro %}{{ f(63) }}"
        #expect(try ChatTemplate(source).render([:]) == "41")
        // Beyond the budget it is a clean error, long before the stack is at risk.
        let tooDeep = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"
        #expect(throws: ChatTemplateError.self) {
            try ChatTemplate(tooDeep, limits: RenderLimits(maxCallDepth: 10_000)).render([:])
        }
    }

    @Test func hugeNumbersInSizesFailCleanly() throws {
        for source in ["{{ 'ab' * 9223372036854775807 }}", "{{ [1] * 9223372036854775807 }}",
                       "{{ range(-9223372036854775807, 9223372036854775807) | length }}", "{{ 'x'.zfill(9999999999) }}",
                       "{{ '%999999999999s' % 'x' }}", "{{ 'a' | indent(99999999999) }}"] {
            #expect(throws: ChatTemplateError.self, "\(source)") { try ChatTemplate(source).render([:]) }
        }
        #expect(try ChatTemplate("{{ [1, 2, 3][1::9223372036854775807] }}").render([:]) == "[2]")
        #expect(try ChatTemplate("{{ [1, 2, 3][::-9223372036854775807] }}").render([:]) == "[3]")
    }

    @Test func integerOverflowIsAnErrorNotATrap() throws {
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ 2 ** 64 }}").render([:]) }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ 9223372036854775807 + 1 }}").render([:]) }
        #expect(throws: ChatTemplateError.self) { try ChatTemplate("{{ 99999999999999999999 }}").render([:]) }
    }
}

@Suite struct JinjaValueTests {
    @Test func jsonParsingKeepsKeyOrderAndTypes() throws {
        let value = try JinjaValue(json: #"{"z": 1, "a": [true, null, 1.5, "é\n\ud83d\ude00"], "m": {"y": -2, "b": 1e3}}"#)
        guard case .object(let map) = value else {
            Issue.record("not an object")
            return
        }
        #expect(map.keys == ["z", "a", "m"])
        #expect(value["a"] == [true, nil, 1.5, "é\n😀"])
        #expect(value["m"] == ["y": -2, "b": 1000.0])
        #expect(value.jsonString() == #"{"z": 1, "a": [true, null, 1.5, "é\n😀"], "m": {"y": -2, "b": 1000.0}}"#)
        #expect(JinjaValue.array([]).jsonString(indent: 2) == "[]")
        #expect(JinjaValue(dictionaryLiteral: ("k", [1])).jsonString(indent: 2) == "{\n  \"k\": [\n    1\n  ]\n}")
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"unterminated", "01x", "[1] 2"])
    func malformedJSONThrows(_ text: String) {
        #expect(throws: ChatTemplateError.self) { _ = try JinjaValue(json: text) }
    }

    @Test(arguments: [
        (0.1 + 0.2, "0.30000000000000004"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (1e-5, "1e-05"),
        (0.0001, "0.0001"), (2.0, "2.0"), (-0.0, "-0.0"), (123456789.123, "123456789.123"), (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (Double.infinity, "inf"), (1.5e300, "1.5e+300"),
        (100.0, "100.0"), (0.5, "0.5"), (12345678901234567.0, "1.2345678901234568e+16"),
    ])
    func floatsPrintLikePython(_ value: Double, _ expected: String) {
        #expect(PythonFormat.float(value) == expected)
    }
}
