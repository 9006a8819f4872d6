/// Streaming decode: feed ids one at a time and get back only text that is final.
///
/// Bytes of a UTF-8 character split across tokens (byte-fallback pieces, byte-level BPE
/// pieces of an emoji) are held until the character completes. Concatenating every
/// `append` result and `flush()` equals `decode(allIDs, skipSpecial:)` exactly, including
/// where U+FFFD replaces invalid bytes.
public struct IncrementalDetokenizer: Sendable {
    public let tokenizer: any Tokenizer
    public let skipSpecial: Bool
    /// Bytes received but not yet returned: at most an incomplete trailing character.
    private var pending: [UInt8] = []
    private var isFirst = true

    public init(tokenizer: any Tokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token; returns the text that became complete (possibly empty).
    public mutating func append(_ id: Int32) -> String {
        tokenizer.appendDecodedPiece(id, skipSpecial: skipSpecial, isFirst: isFirst, to: &pending)
        isFirst = false
        let complete = pending.count - UTF8Tail.incompleteSuffixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Adds several tokens; returns the text that became complete.
    public mutating func append(contentsOf ids: [Int32]) -> String {
        var text = ""
        for id in ids { text += append(id) }
        return text
    }

    /// Ends the stream: whatever is still held comes out, invalid bytes as U+FFFD.
    public mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes held back because they may still become a character.
    public var pendingByteCount: Int { pending.count }
}

/// Recognises a trailing UTF-8 sequence that is a valid but unfinished character.
enum UTF8Tail {
    /// Length of the suffix of `bytes` that is a proper prefix of some valid UTF-8 character
    /// (Unicode Table 3-7 ranges), or 0. Anything else can be decoded now: the decoder's
    /// verdict on it cannot change with later bytes.
    static func incompleteSuffixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var back = 1
        while back <= min(3, n) {
            let lead = bytes[n - back]
            if lead & 0xC0 != 0x80 {
                let needed: Int
                switch lead {
                case 0xC2...0xDF: needed = 2
                case 0xE0...0xEF: needed = 3
                case 0xF0...0xF4: needed = 4
                default: return 0
                }
                guard back < needed else { return 0 }
                if back >= 2 {
                    let second = bytes[n - back + 1]
                    let range: ClosedRange<UInt8>
                    switch lead {
                    case 0xE0: range = 0xA0...0xBF
                    case 0xED: range = 0x80...0x9F
                    case 0xF0: range = 0x90...0xBF
                    case 0xF4: range = 0x80...0x8F
                    default: range = 0x80...0xBF
                    }
                    guard range.contains(second) else { return 0 }
                }
                return back
            }
            back += 1
        }
        return 0
    }
}
