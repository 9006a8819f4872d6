import Foundation
import Testing
@testable import Engine

@Suite("Gemma 3 SentencePiece")
struct GemmaTokenizerTests {
    let tokenizer: any Tokenizer

    init() throws { tokenizer = try TokenizerDevModels.tokenizer(TokenizerDevModels.gemmaVocab) }

    @Test func metadata() {
        #expect(tokenizer.vocabularySize == 262_144)
        #expect(tokenizer.bosID == 2 && tokenizer.eosID == 1 && tokenizer.addBOS)
        #expect(tokenizer.id(of: "<start_of_turn>") == 105)
        #expect(tokenizer.encode("Hi", addBOS: nil, parseSpecial: false).first == 2)
        #expect(tokenizer.encode("Hi", parseSpecial: false).first != 2)
    }

    @Test func chatTurnWithSpecialTokens() {
        let ids = tokenizer.encode("<start_of_turn>user\nHello<end_of_turn>\n", parseSpecial: true)
        #expect(ids.first == 105 && ids.contains(106))
        #expect(tokenizer.encode("<bos>", parseSpecial: true) == [2])
        #expect(tokenizer.encode("<bos>", parseSpecial: false) != [2])
    }

    /// Ground truth recorded by tools/gemma_golden.py from llama.cpp on the same GGUF.
    @Test func goldenFixtureMatchesLlamaCpp() throws {
        let cases = try TokenizerFixtures.json("gemma3_golden")["cases"] as! [[String: Any]]
        #expect(cases.count >= 25)
        for item in cases {
            let text = item["text"] as! String
            let parseSpecial = item["parse_special"] as! Bool
            let expected = (item["ids"] as! [NSNumber]).map { $0.int32Value }
            let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
            #expect(ids == expected, "\(text.debugDescription)")
            if !parseSpecial {
                #expect(tokenizer.decode(ids, skipSpecial: false) == text, "round trip \(text.debugDescription)")
            }
        }
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
