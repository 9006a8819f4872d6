import Foundation
import Testing

/// `ringside tokenize`, `detokenize` and `template` as a user runs them.
@Suite("tokenize and template commands", .serialized)
struct TokenizeCommandTests {
    static let vocabDirectory = ProcessInfo.processInfo.environment["RINGSIDE_LLAMA_VOCAB"]
        ?? NSHomeDirectory() + "/.cache/ringside/llama.cpp-0.3.36/models"

    static func ringside(_ args: [String], environment: [String: String] = [:]) throws -> CommandTests.Run {
        try CommandTests.ringside(args, environment: environment)
    }

    @Test func tokenizeMatchesTransformersOnSmolLM2() throws {
        // transformers' ids for this prompt (Fixtures/smollm2-greedy-capital.json of the generate test).
        let r = try Self.ringside(["tokenize", "--model", "smollm2-135m-instruct", "--text", "The capital of France is", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "[504, 3575, 282, 4649, 314]\n")
    }

    @Test func vocabularyOnlyFileTokenizesAndRoundTrips() throws {
        let model = Self.vocabDirectory + "/ggml-vocab-llama-bpe.gguf"
        let text = "Hello world, it's 2024!\n\tcafé 🦙"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-tok-\(UUID().uuidString).txt")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try Self.ringside(["tokenize", "--model", model, "--file", file.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("9906 1917 11 433 596 220 2366 19 "))
        let back = try Self.ringside(["detokenize", "--model", model] + r.stdout.split(separator: " ").map(String.init))
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdout == text)
    }

    @Test func addSpecialAndParseSpecial() throws {
        let spm = Self.vocabDirectory + "/ggml-vocab-llama-spm.gguf"
        // llama.cpp adds BOS (1) for this vocabulary only with add_special.
        #expect(try Self.ringside(["tokenize", "--model", spm, "--text", "Hello world"]).stdout == "15043 3186\n")
        #expect(try Self.ringside(["tokenize", "--model", spm, "--text", "Hello world", "--add-special"]).stdout == "1 15043 3186\n")
        let bpe = Self.vocabDirectory + "/ggml-vocab-llama-bpe.gguf"
        let plain = try Self.ringside(["tokenize", "--model", bpe, "--text", "<|eot_id|>"]).stdout
        let parsed = try Self.ringside(["tokenize", "--model", bpe, "--text", "<|eot_id|>", "--parse-special"]).stdout
        #expect(parsed == "128009\n")
        #expect(plain != parsed)
    }

    @Test func badInputIsAClearError() throws {
        let model = Self.vocabDirectory + "/ggml-vocab-gpt-2.gguf"
        let both = try Self.ringside(["tokenize", "--model", model, "--text", "a", "--file", "/nonexistent"])
        #expect(both.status != 0 && both.stderr.contains("exactly one"))
        let outside = try Self.ringside(["detokenize", "--model", model, "99999999"])
        #expect(outside.status == 1 && outside.stderr.contains("outside the vocabulary"))
        let junk = try Self.ringside(["detokenize", "--model", model, "12", "x"])
        #expect(junk.status == 1 && junk.stderr.contains("not a token id"))
    }

    /// The template command prints exactly what jinja2 printed for the same template and
    /// conversation (one case of Tests/JinjaTests/Fixtures/llama_templates.json).
    @Test func templatePrintsWhatJinja2Prints() throws {
        let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../JinjaTests/Fixtures/llama_templates.json")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureURL)) as? [String: Any])
        let cases = try #require(root["cases"] as? [[String: Any]])
        // JSONSerialization does not keep key order, and `tojson` prints keys in order, so the
        // byte-exact comparison uses a conversation without tools; the tool case checks the tools
        // reach the template.
        let c = try #require(cases.first { $0["template"] as? String == "Qwen-Qwen3-0.6B" && $0["conversation"] as? String == "reasoning_turns" })
        let context = try #require(c["context"] as? [String: Any])
        let messages = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-msgs-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: ["messages": context["messages"]!]).write(to: messages)
        defer { try? FileManager.default.removeItem(at: messages) }
        let template = Self.vocabDirectory + "/templates/Qwen-Qwen3-0.6B.jinja"
        // llama-spm's BOS/EOS are "<s>"/"</s>", as the goldens were rendered with.
        let r = try Self.ringside(["template", "--model", Self.vocabDirectory + "/ggml-vocab-llama-spm.gguf",
                                   "--chat-template", template, "--messages", messages.path],
                                  environment: ["SOURCE_DATE_EPOCH": "1765000000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == c["expected"] as? String)

        let toolCase = try #require(cases.first { $0["template"] as? String == "Qwen-Qwen3-0.6B" && $0["conversation"] as? String == "tool_round_trip" })
        let toolContext = try #require(toolCase["context"] as? [String: Any])
        let toolMessages = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-tools-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: ["messages": toolContext["messages"]!, "tools": toolContext["tools"]!]).write(to: toolMessages)
        defer { try? FileManager.default.removeItem(at: toolMessages) }
        let tools = try Self.ringside(["template", "--model", Self.vocabDirectory + "/ggml-vocab-llama-spm.gguf",
                                       "--chat-template", template, "--messages", toolMessages.path])
        #expect(tools.status == 0, "\(tools.stderr)")
        #expect(tools.stdout.contains("<tools>") && tools.stdout.contains("\"get_weather\"") && tools.stdout.contains("<tool_response>"))
        let noPrompt = try Self.ringside(["template", "--model", Self.vocabDirectory + "/ggml-vocab-llama-spm.gguf",
                                          "--chat-template", template, "--messages", messages.path, "--no-generation-prompt",
                                          "--kwargs", "{\"enable_thinking\": false}"])
        #expect(noPrompt.status == 0 && !noPrompt.stdout.hasSuffix("<|im_start|>assistant\n"))
        let missing = try Self.ringside(["template", "--model", Self.vocabDirectory + "/ggml-vocab-gpt-2.gguf", "--messages", messages.path])
        #expect(missing.status == 1 && missing.stderr.contains("no chat template"))
    }
}
