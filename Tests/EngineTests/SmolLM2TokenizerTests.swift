import Foundation
import Testing
@testable import Engine

@Suite("SmolLM2 byte-level BPE")
struct SmolLM2TokenizerTests {
    let tokenizer: any Tokenizer

    init() throws { tokenizer = try TokenizerDevModels.tokenizer(TokenizerDevModels.smolVocab) }

    static let chat = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"

    @Test func referenceSentence() {
        #expect(tokenizer.encode("The capital of France is", parseSpecial: false) == [504, 3575, 282, 4649, 314])
    }

    @Test func digitsAreSplitIndividually() {
        #expect(tokenizer.encode("12345 + 67 = 12412", parseSpecial: false)
            == [33, 34, 35, 36, 37, 1232, 216, 38, 39, 446, 216, 33, 34, 36, 33, 34])
    }

    @Test func chatPromptWithSpecialTokens() {
        let ids = tokenizer.encode(Self.chat, parseSpecial: true)
        #expect(ids == [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407,
                        19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198])
        #expect(tokenizer.decode(ids, skipSpecial: false) == Self.chat)
    }

    @Test func specialTokensAreTextWithoutParseSpecial() {
        let ids = tokenizer.encode("<|im_start|>user", parseSpecial: false)
        #expect(!ids.contains(1))
        #expect(ids.count > 2)
        #expect(tokenizer.decode(ids, skipSpecial: true) == "<|im_start|>user")
    }

    @Test func metadata() {
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.id(of: "<|im_end|>") == 2)
        #expect(tokenizer.isControl(0) && tokenizer.isControl(16) && !tokenizer.isControl(17))
        #expect(tokenizer.bosID == 1 && tokenizer.eosID == 2 && !tokenizer.addBOS)
        #expect(tokenizer.tokenBytes(2) == Array("<|im_end|>".utf8))
        #expect(tokenizer.tokenBytes(216) == [0x20])  // "Ġ"
        #expect(tokenizer.decode([1, 4093, 2], skipSpecial: true) == "user")
    }

    @Test func goldenFixtureMatchesHuggingFace() throws {
        let cases = try TokenizerFixtures.idCases("smollm2_golden")
        #expect(cases.count >= 40)
        for (text, expected) in cases {
            let ids = tokenizer.encode(text, parseSpecial: true)
            #expect(ids == expected, "\(text.debugDescription)")
            #expect(tokenizer.decode(ids, skipSpecial: false) == text, "round trip \(text.debugDescription)")
        }
    }

    @Test func badIDsDecodeToReplacement() {
        #expect(tokenizer.decode([504, -1, 49152, 99999], skipSpecial: false) == "The\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(tokenizer.tokenBytes(-5).isEmpty)
        #expect(tokenizer.tokenType(49152) == nil)
    }

    /// 100 kB of prose, code, JSON and three scripts survive encode and decode unchanged, and
    /// encoding in two halves split at a line start gives the same ids as in one piece.
    /// (Speed: `ringside microbench --tokenizer --model <name>`.)
    @Test func longMixedTextRoundTrips() {
        let text = tokenizerSpeedText()
        let ids = tokenizer.encode(text, parseSpecial: false)
        #expect(ids.count > 20_000 && ids.count < 100_000, "\(ids.count) tokens")
        #expect(tokenizer.decode(ids, skipSpecial: false) == text)
        let cut = text.index(text.startIndex, offsetBy: text.count / 2)
        let lineEnd = text.index(after: text.range(of: "\nThe quick", range: cut ..< text.endIndex)!.lowerBound)
        #expect(tokenizer.encode(String(text[..<lineEnd]), parseSpecial: false)
            + tokenizer.encode(String(text[lineEnd...]), parseSpecial: false) == ids)
    }
}
