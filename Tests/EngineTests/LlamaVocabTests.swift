import Foundation
import Testing
@testable import Engine

/// llama.cpp's own tokenizer test vectors: the vocabulary-only GGUFs of its `models/` folder
/// with `.inp` (texts) and `.out` (the ids llama.cpp's test-tokenizer-0 expects, no BOS, special
/// tokens not parsed). `make test` fetches them from the llama-cpp-python source distribution
/// into ~/.cache/ringside/llama.cpp-0.3.36 (`make llama-vocab`).
enum LlamaVocab {
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["RINGSIDE_LLAMA_VOCAB"] { return dir }
        return NSHomeDirectory() + "/.cache/ringside/llama.cpp-0.3.36/models"
    }

    static func path(_ name: String) -> String { directory + "/ggml-vocab-\(name).gguf" }

    static func require(_ name: String) throws -> String {
        let p = path(name)
        guard FileManager.default.fileExists(atPath: p) else {
            throw TestSetupError("missing \(p): run `make llama-vocab` (part of `make test`)")
        }
        return p
    }

    /// The (text, ids) pairs of one vocabulary, split the way test-tokenizer-0.cpp splits them.
    static func vectors(_ name: String) throws -> [(text: String, ids: [Int32])] {
        let base = try require(name)
        let inp = try String(contentsOfFile: base + ".inp", encoding: .utf8)
        let out = try String(contentsOfFile: base + ".out", encoding: .utf8)
        var texts = inp.components(separatedBy: "\n__ggml_vocab_test__\n")
        if texts.last == "" { texts.removeLast() }
        var lines = out.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard texts.count == lines.count else {
            throw TestSetupError("\(name): \(texts.count) texts but \(lines.count) expected lines")
        }
        return zip(texts, lines).map { text, line in
            (text: text, ids: line.split(separator: " ").compactMap { Int32($0) })
        }
    }

    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try VocabularySpec(gguf: GGUFFile(path: require(name))).makeTokenizer()
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

@Suite("llama.cpp vocabulary vectors")
struct LlamaVocabTests {
    /// Every vocabulary llama.cpp ships with test vectors and that we tokenize.
    static let supported = [
        "bert-bge", "command-r", "deepseek-coder", "deepseek-llm", "falcon", "gemma-4", "gpt-2", "llama-bpe",
        "llama-spm", "mpt", "phi-3", "qwen2", "qwen35", "refact", "starcoder",
    ]

    @Test(arguments: supported)
    func matchesLlamaCppIDs(_ name: String) throws {
        let tokenizer = try LlamaVocab.tokenizer(name)
        let vectors = try LlamaVocab.vectors(name)
        #expect(vectors.count > 20)
        var failures = 0
        for (text, expected) in vectors {
            let got = tokenizer.encode(text, parseSpecial: false)
            if got != expected {
                failures += 1
                if failures <= 3 {
                    Issue.record("\(name): \(text.debugDescription)\n  got      \(got)\n  expected \(expected)")
                }
            }
        }
        #expect(failures == 0, "\(name): \(failures) of \(vectors.count) texts differ")
    }

    /// The vocabulary files without vectors still load (aquila, baichuan, gpt-neox, nomic-bert-moe).
    @Test(arguments: ["aquila", "baichuan", "gpt-neox"])
    func vocabularyWithoutVectorsLoads(_ name: String) throws {
        let tokenizer = try LlamaVocab.tokenizer(name)
        let ids = tokenizer.encode("Hello world", parseSpecial: false)
        #expect(!ids.isEmpty)
        #expect(tokenizer.decode(ids, skipSpecial: false).hasSuffix("Hello world"))
    }
}


/// Texts of our own (tools/tokenizer/record_llama_tokenize.py), tokenized once by llama.cpp's
/// llama-tokenize into Fixtures/llama_tokenize_own.json.
@Suite("llama-tokenize on our own texts")
struct LlamaTokenizeOwnTextTests {
    static let fixture: (texts: [String], ids: [String: [[Int32]]])? = {
        guard let url = Bundle.module.url(forResource: "llama_tokenize_own", withExtension: "json", subdirectory: "Fixtures"),
              let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let texts = root["texts"] as? [String], let ids = root["ids"] as? [String: [[Int]]] else { return nil }
        return (texts, ids.mapValues { $0.map { $0.map { Int32($0) } } })
    }()

    @Test func fixtureCoversTheVocabularies() throws {
        let f = try #require(Self.fixture)
        #expect(f.texts.count >= 15)
        #expect(Set(f.ids.keys).isSuperset(of: LlamaVocabTests.supported))
    }

    @Test(arguments: (fixture?.ids.keys.sorted() ?? []))
    func matchesLlamaTokenize(_ name: String) throws {
        let f = try #require(Self.fixture)
        let tokenizer = try LlamaVocab.tokenizer(name)
        for (text, expected) in zip(f.texts, f.ids[name] ?? []) {
            let got = tokenizer.encode(text, parseSpecial: false)
            #expect(got == expected, "\(name): \(text.debugDescription)")
        }
    }
}
