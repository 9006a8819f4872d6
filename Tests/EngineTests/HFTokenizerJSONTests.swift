import Foundation
import Testing
@testable import Engine

@Suite("tokenizer.json loader")
struct HFTokenizerJSONTests {
    static let tiny = """
    {"version": "1.0", "normalizer": null,
     "added_tokens": [{"id": 6, "content": "<s>", "special": true},
                      {"id": 7, "content": "<tag>", "special": false}],
     "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": true},
        {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}]},
     "post_processor": {"type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
     "decoder": {"type": "ByteLevel"},
     "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4, "1": 5},
               "merges": ["a b", ["Ġ", "ab"]]}}
    """

    @Test func tinyModelEncodesWithBothMergeForms() throws {
        let tokenizer = try BPETokenizer.load(tokenizerJSON: Data(Self.tiny.utf8))
        #expect(tokenizer.encode("ab ab<s><tag>11", parseSpecial: true) == [2, 4, 6, 7, 5, 5])
        #expect(tokenizer.encode("ab<s><tag>", parseSpecial: false) == [2, 7])  // "<s>" bytes are not in vocab
        #expect(tokenizer.bosID == 6 && tokenizer.addBOS)
        #expect(tokenizer.decode([2, 4, 6, 7], skipSpecial: true) == "ab ab<tag>")
        #expect(tokenizer.tokenType(7) == .userDefined && tokenizer.isControl(6))
    }

    @Test func smolTokenizerJSONMatchesGolden() throws {
        let tokenizer = try BPETokenizer.load(tokenizerJSON: TokenizerDevModels.smolTokenizerJSON())
        for (text, expected) in try TokenizerFixtures.idCases("smollm2_golden") {
            #expect(tokenizer.encode(text, parseSpecial: true) == expected, "\(text.debugDescription)")
        }
    }

    @Test func errors() throws {
        #expect(throws: TokenizerError.fileNotFound(path: "/nonexistent/tokenizer.json")) {
            try BPETokenizer.load(tokenizerJSON: URL(fileURLWithPath: "/nonexistent/tokenizer.json"))
        }
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(tokenizerJSON: Data("{not json".utf8)) }
        #expect(throws: TokenizerError.malformedJSON("missing \"model\"")) {
            try BPETokenizer.load(tokenizerJSON: Data("{}".utf8))
        }
        let wordPiece = #"{"model": {"type": "WordPiece", "vocab": {}}}"#
        #expect(throws: TokenizerError.unsupportedModelType("WordPiece")) {
            try BPETokenizer.load(tokenizerJSON: Data(wordPiece.utf8))
        }
        let error = TokenizerError.unsupportedModelType("Unigram")
        #expect(error.description.contains("Unigram"))
        let metaspace = Self.tiny.replacingOccurrences(of: #"{"type": "Digits", "individual_digits": true}"#, with: #"{"type": "Metaspace"}"#)
        #expect(throws: TokenizerError.unsupportedPreTokenizer("tokenizer.json pre_tokenizer type 'Metaspace'")) {
            try BPETokenizer.load(tokenizerJSON: Data(metaspace.utf8))
        }
    }

    @Test func badMergesAndVocabDoNotCrash() throws {
        let spec = VocabularySpec(model: .bpe, tokens: ["a", "b", "ab"], merges: ["a b", "nospace", "x y", "a"], preTokenizer: "gpt2")
        let tokenizer = try spec.makeTokenizer()
        #expect(tokenizer.encode("ab c", parseSpecial: false) == [2])  // bytes missing from vocab are dropped
        #expect(throws: TokenizerError.self) { try VocabularySpec(model: .bpe, tokens: []).makeTokenizer() }
        #expect(throws: TokenizerError.self) {
            try VocabularySpec(model: .bpe, tokens: ["a"], tokenTypes: [1, 1]).makeTokenizer()
        }
        #expect(throws: TokenizerError.self) {
            try VocabularySpec(model: .sentencePiece, tokens: ["a"], bosID: 5).makeTokenizer()
        }
    }
}

@Suite("Edge cases")
struct TokenizerEdgeCaseTests {
    @Test func emptyInputs() throws {
        let tokenizer = try VocabularySpec(model: .bpe, tokens: ["a"], preTokenizer: "gpt2").makeTokenizer()
        #expect(tokenizer.encode("", parseSpecial: true).isEmpty)
        #expect(tokenizer.decode([], skipSpecial: false) == "")
        var detok = IncrementalDetokenizer(tokenizer: tokenizer)
        #expect(detok.flush() == "")
    }

    @Test
    func sharedAcrossTasks() async throws {
        let tokenizer = try TokenizerDevModels.tokenizer(TokenizerDevModels.smolVocab)
        let expected = tokenizer.encode("The capital of France is", parseSpecial: false)
        let results = await withTaskGroup(of: [Int32].self) { group in
            for _ in 0..<8 { group.addTask { tokenizer.encode("The capital of France is", parseSpecial: false) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 == expected })
    }

    @Test func sentencePieceSpacePrefix() throws {
        // Tiny SPM vocab: add_space_prefix puts ▁ before text at the start and after specials.
        let tokens = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "▁ab", "<0x41>", "<sep>"]
        let spec = VocabularySpec(
            model: .sentencePiece, tokens: tokens,
            tokenTypes: [2, 3, 3, 1, 1, 1, 1, 1, 6, 3],
            scores: [0, 0, 0, -1, -2, -2, -1, -0.5, 0, 0],
            bosID: 1, eosID: 2, unknownID: 0, addBOS: true, addSpacePrefix: true)
        let tokenizer = try spec.makeTokenizer()
        #expect(tokenizer.encode("ab", parseSpecial: false) == [7])
        #expect(tokenizer.encode("ab<sep>a", parseSpecial: true) == [7, 9, 6])
        #expect(tokenizer.encode("A", parseSpecial: false) == [3, 8])  // byte fallback
        #expect(tokenizer.decode([7, 9, 6], skipSpecial: false) == "ab<sep> a")
        #expect(tokenizer.decode([7, 9, 6], skipSpecial: true) == "ab a")
    }
}
