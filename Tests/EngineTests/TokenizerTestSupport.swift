import Foundation
import Testing
@testable import Engine

/// Tokenizers built from the real model files in the cache (`make test` pulls them).
enum TokenizerDevModels {
    enum Model { case smol, gemma }
    static let smolVocab = Model.smol
    static let gemmaVocab = Model.gemma

    // Built once per test process: the Gemma vocabulary has 262k entries.
    nonisolated(unsafe) private static var cache: [String: any Tokenizer] = [:]
    private static let lock = NSLock()

    static func spec(_ model: Model) throws -> VocabularySpec {
        try VocabularySpec(gguf: (model == .smol ? TestModels.smol : TestModels.gemma).get())
    }

    static func tokenizer(_ model: Model) throws -> any Tokenizer {
        let key = model == .smol ? "smol" : "gemma"
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[key] { return cached }
        let made = try spec(model).makeTokenizer()
        cache[key] = made
        return made
    }

    /// The SmolLM2 vocabulary written out as a Hugging Face tokenizer.json (the layout of the
    /// model's own file: BPE model, Digits + ByteLevel pre-tokenizer, control tokens as added
    /// special tokens), so the tokenizer.json loader is exercised on a real-size vocabulary.
    static func smolTokenizerJSON() throws -> Data {
        let spec = try spec(.smol)
        var vocab: [String: Int] = [:]
        for (i, t) in spec.tokens.enumerated() { vocab[t] = i }
        let added: [[String: Any]] = spec.tokens.indices.filter { spec.tokenTypes[$0] == 3 }.map {
            ["id": $0, "content": spec.tokens[$0], "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": false, "special": true]
        }
        let json: [String: Any] = [
            "version": "1.0",
            "added_tokens": added,
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [
                ["type": "Digits", "individual_digits": true],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            ]],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "fuse_unk": false,
                      "byte_fallback": false, "vocab": vocab, "merges": spec.merges],
        ]
        return try JSONSerialization.data(withJSONObject: json)
    }
}

enum TokenizerFixtures {
    static func json(_ name: String) throws -> [String: Any] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
            throw TokenizerError.fileNotFound(path: "Fixtures/\(name).json")
        }
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// `(text, ids)` pairs from a golden fixture.
    static func idCases(_ name: String) throws -> [(text: String, ids: [Int32])] {
        let cases = try json(name)["cases"] as! [[String: Any]]
        return cases.map { ($0["text"] as! String, ($0["ids"] as! [NSNumber]).map { $0.int32Value }) }
    }
}

/// ~100 KB of mixed prose, code, JSON and some non-Latin text for throughput prints.
func tokenizerSpeedText() -> String {
    let sample = """
    The quick brown fox jumps over the lazy dog. In 1969, Apollo 11 landed on the Moon; \
    it's been 55 years since then, and we're still talking about it!
    def fibonacci(n: int) -> int:
        if n < 2:
            return n
        return fibonacci(n - 1) + fibonacci(n - 2)
    {"model": "SmolLM2", "params": 135000000, "tags": ["small", "fast"], "ok": true}
    Café au lait coûte 3,50 € à Paris. 東京は日本の首都です。 Привет, мир!

    """
    var text = ""
    while text.utf8.count < 100_000 { text += sample }
    return text
}

