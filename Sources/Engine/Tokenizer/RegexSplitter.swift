import Foundation

/// Fallback for arbitrary pre-tokenizer regexes (tokenizer.json `Split`), via ICU.
/// Slower than the hand-written splitters; used only for patterns they do not cover.
struct RegexSplitter: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe, hence @unchecked.
    let pattern: String
    private let regex: NSRegularExpression

    init(pattern: String) throws(TokenizerError) {
        self.pattern = pattern
        do {
            regex = try NSRegularExpression(pattern: Self.icuCompatible(pattern))
        } catch {
            throw .invalidRegex(pattern: pattern, reason: "\(error)")
        }
    }

    /// Every match plus the gaps between them; empty matches are dropped as HF does.
    func split(_ text: CodepointText, _ lo: Int, _ hi: Int, into out: inout [PreTokenSpan]) {
        guard lo < hi else { return }
        let string = text.string(lo..<hi)
        // UTF-16 offset of each scalar, to map NSRange results back to scalar indices.
        var utf16Start: [Int] = []
        utf16Start.reserveCapacity(hi - lo + 1)
        var offset = 0
        for i in lo..<hi {
            utf16Start.append(offset)
            offset += text.scalars[i] > 0xFFFF ? 2 : 1
        }
        utf16Start.append(offset)
        func scalarIndex(_ u16: Int) -> Int {
            var low = 0, high = utf16Start.count - 1
            while low < high {
                let mid = (low + high) / 2
                if utf16Start[mid] < u16 { low = mid + 1 } else { high = mid }
            }
            return lo + low
        }
        var gapStart = lo
        let matches = regex.matches(in: string, range: NSRange(location: 0, length: offset))
        for match in matches where match.range.length > 0 {
            let start = scalarIndex(match.range.location)
            let end = scalarIndex(match.range.location + match.range.length)
            if gapStart < start { out.append(PreTokenSpan(gapStart, start, false)) }
            out.append(PreTokenSpan(start, end, true))
            gapStart = end
        }
        if gapStart < hi { out.append(PreTokenSpan(gapStart, hi, false)) }
    }

    /// ICU's `\s` lacks U+000B and U+0085, which Oniguruma/PCRE2/Python count as White_Space;
    /// spell the class out so tokenizer.json regexes split the same way.
    static func icuCompatible(_ pattern: String) -> String {
        let space = #"\t\n\x{0B}\f\r\x{85}\p{Z}"#
        var out = ""
        var inClass = false
        var iterator = pattern.makeIterator()
        while let ch = iterator.next() {
            if ch == "\\" {
                guard let next = iterator.next() else { out.append(ch); break }
                switch (next, inClass) {
                case ("s", false): out += "[\(space)]"
                case ("s", true): out += space
                case ("S", false): out += "[^\(space)]"
                default: out.append(ch); out.append(next)
                }
                continue
            }
            if ch == "[" { inClass = true } else if ch == "]" { inClass = false }
            out.append(ch)
        }
        return out
    }
}
