import Foundation
import Testing
@testable import Engine

@Suite("Incremental detokenizer")
struct IncrementalDetokenizerTests {
    /// Feeds ids one by one; checks no piece ends mid-character and the total equals decode.
    func stream(_ tokenizer: any Tokenizer, _ ids: [Int32], skipSpecial: Bool = false) -> [String] {
        var detok = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: skipSpecial)
        var pieces = ids.map { detok.append($0) }
        pieces.append(detok.flush())
        #expect(pieces.joined() == tokenizer.decode(ids, skipSpecial: skipSpecial))
        return pieces
    }

    @Test
    func gemmaByteFallbackEmojiAndCJK() throws {
        let tokenizer = try TokenizerDevModels.tokenizer(TokenizerDevModels.gemmaVocab)
        // 🦀 as four <0xXX> byte tokens: nothing until the last byte arrives.
        let crab = Array("🦀".utf8).map { 238 + Int32($0) }
        #expect(crab.allSatisfy { tokenizer.tokenType($0) == .byte })
        #expect(stream(tokenizer, crab) == ["", "", "", "🦀", ""])
        let ids = [2] + tokenizer.encode("日本語 😀 ok", parseSpecial: false) + crab + [1]
        let pieces = stream(tokenizer, ids)
        #expect(!pieces.joined().contains("\u{FFFD}"))
        _ = stream(tokenizer, ids, skipSpecial: true)
    }

    @Test
    func smolByteLevelEmoji() throws {
        let tokenizer = try TokenizerDevModels.tokenizer(TokenizerDevModels.smolVocab)
        // Byte-level BPE splits rare emoji and CJK into partial-character tokens.
        for text in ["👨‍👩‍👧‍👦 family", "漢字かな交じり文", "🇫🇷🦀", "mixed é 😀 text"] {
            let ids = tokenizer.encode(text, parseSpecial: false)
            let pieces = stream(tokenizer, ids)
            #expect(pieces.joined() == text)
            #expect(!pieces.contains { $0.contains("\u{FFFD}") })
        }
    }

    @Test
    func invalidBytesMatchFullDecode() throws {
        let tokenizer = try TokenizerDevModels.tokenizer(TokenizerDevModels.gemmaVocab)
        let bytes: [[UInt8]] = [[0xF0, 0x9F], [0xE2, 0x82, 0x41], [0xC3], [0xED, 0xA0, 0x80], [0xFF, 0x41, 0xF4, 0x90]]
        for sequence in bytes {
            _ = stream(tokenizer, sequence.map { 238 + Int32($0) })
        }
    }

    @Test func tailDetection() {
        #expect(UTF8Tail.incompleteSuffixLength([0x41, 0xF0, 0x9F, 0x98]) == 3)
        #expect(UTF8Tail.incompleteSuffixLength([0xF0, 0x9F, 0x98, 0x80]) == 0)
        #expect(UTF8Tail.incompleteSuffixLength([0xE0, 0x80]) == 0)  // overlong: decodable now
        #expect(UTF8Tail.incompleteSuffixLength([0xC3]) == 1)
        #expect(UTF8Tail.incompleteSuffixLength([0x80]) == 0)
    }
}
