import Foundation
import Testing
@testable import Engine

@Suite("Pre-tokenizers vs Python regex")
struct PreTokenizerTests {
    static let builtIns: [(String, PreTokenizer)] = [
        ("gpt2", .gpt2), ("smollm", .smollm), ("llama3", .llama3), ("qwen2", .qwen2), ("bailingmoe2", .bailingMoe2),
    ]

    @Test(arguments: builtIns.map(\.0))
    func handWrittenMatchesRegex(name: String) throws {
        let pre = Self.builtIns.first { $0.0 == name }!.1
        let cases = try TokenizerFixtures.json("pretokenizer_splits")["cases"] as! [[String: Any]]
        #expect(cases.count >= 40)
        for item in cases {
            let text = item["text"] as! String
            let expected = (item["splits"] as! [String: [String]])[name]!
            #expect(pre.split(text) == expected, "\(name): \(text.debugDescription)")
        }
    }

    /// The ICU fallback must agree with the hand-written splitters on the same patterns.
    @Test(arguments: ["gpt2", "llama3", "qwen2", "bailingmoe2"])
    func regexFallbackMatchesRegex(name: String) throws {
        let fixture = try TokenizerFixtures.json("pretokenizer_splits")
        let pattern = (fixture["patterns"] as! [String: [String]])[name]!
        let pre = PreTokenizer(steps: [.init(rule: .regex(try RegexSplitter(pattern: pattern[0])))])
        for item in fixture["cases"] as! [[String: Any]] {
            let text = item["text"] as! String
            let expected = (item["splits"] as! [String: [String]])[name]!
            #expect(pre.split(text) == expected, "\(name) via ICU: \(text.debugDescription)")
        }
    }

    @Test func knownPatternsUseHandWrittenSplitters() throws {
        let fixture = try TokenizerFixtures.json("pretokenizer_splits")
        for (name, patterns) in fixture["patterns"] as! [String: [String]] {
            for step in try PreTokenizer.regex(patterns).steps {
                if case .regex = step.rule { Issue.record("\(name) fell back to ICU") }
            }
        }
    }

    @Test func ggufNames() throws {
        #expect(try PreTokenizer.named("smollm").steps.count == 2)
        #expect(try PreTokenizer.named("llama-bpe").split("12345") == ["123", "45"])
        #expect(throws: TokenizerError.unsupportedPreTokenizer("GGUF pre-tokenizer 'nope'")) {
            try PreTokenizer.named("nope")
        }
    }

    @Test func splitBehaviors() {
        func apply(_ b: PreTokenizer.Behavior, invert: Bool = false) -> [String] {
            // "the-final--countdown" split on "-"
            let pre = PreTokenizer(steps: [.init(rule: .regex(try! RegexSplitter(pattern: "-")), behavior: b, invert: invert)])
            return pre.split("the-final--countdown")
        }
        #expect(apply(.isolated) == ["the", "-", "final", "-", "-", "countdown"])
        #expect(apply(.removed) == ["the", "final", "countdown"])
        #expect(apply(.mergedWithPrevious) == ["the-", "final-", "-", "countdown"])
        #expect(apply(.mergedWithNext) == ["the", "-final", "-", "-countdown"])
        #expect(apply(.contiguous) == ["the", "-", "final", "--", "countdown"])
    }

    @Test func invalidRegexIsAnError() {
        #expect(throws: TokenizerError.self) { try PreTokenizer.regex(["(unclosed"]) }
    }
}
