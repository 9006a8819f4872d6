/// One pre-token candidate: a scalar range and whether a pattern matched it (vs. a gap
/// between matches). The distinction matters only for HF `Split` behaviors.
struct PreTokenSpan: Sendable {
    var lo: Int32
    var hi: Int32
    var isMatch: Bool

    init(_ lo: Int, _ hi: Int, _ isMatch: Bool) {
        self.lo = Int32(lo)
        self.hi = Int32(hi)
        self.isMatch = isMatch
    }
}

/// Hand-written equivalent of the GPT-2 regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
/// Look-ahead stops at `hi`: each earlier piece is split on its own, as in llama.cpp and HF.
enum GPT2Splitter {
    static func split(_ text: CodepointText, _ lo: Int, _ hi: Int, into out: inout [PreTokenSpan]) {
        let L = ScalarClass.letter, N = ScalarClass.number, W = ScalarClass.whitespace
        text.scalars.withUnsafeBufferPointer { s in
            text.flags.withUnsafeBufferPointer { f in
                var pos = lo
                while pos < hi {
                    let c = s[pos]
                    var end = pos
                    if c == 0x27, pos + 1 < hi {
                        let n1 = s[pos + 1]
                        if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {  // s t m d
                            end = pos + 2
                        } else if pos + 2 < hi {
                            let n2 = s[pos + 2]
                            if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {  // re ve ll
                                end = pos + 3
                            }
                        }
                    }
                    if end == pos {
                        let start = (c == 0x20 && pos + 1 < hi) ? pos + 1 : pos
                        let fs = f[start]
                        if fs & L != 0 {
                            end = start + 1
                            while end < hi && f[end] & L != 0 { end += 1 }
                        } else if fs & N != 0 {
                            end = start + 1
                            while end < hi && f[end] & N != 0 { end += 1 }
                        } else if fs & (L | N | W) == 0 {
                            end = start + 1
                            while end < hi && f[end] & (L | N | W) == 0 { end += 1 }
                        } else {
                            // Whitespace run; leave its last char to prefix a following word.
                            var run = pos
                            while run < hi && f[run] & W != 0 { run += 1 }
                            end = (run - pos > 1 && run < hi) ? run - 1 : run
                        }
                    }
                    out.append(PreTokenSpan(pos, end, true))
                    pos = end
                }
            }
        }
    }
}

/// Hand-written equivalent of the llama3-style regexes:
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
/// with K = 3 (llama3) or 1 (qwen2, bailingmoe2, whose possessive variant splits identically).
enum Llama3Splitter {
    struct Options: Sendable, Equatable {
        /// `(?i:…)` also folds U+017F LATIN SMALL LETTER LONG S to `s`; `'[sS]` spellings do not.
        var unicodeCaseFolding: Bool
        var maxDigits: Int
        /// What counts as a letter: `\p{L}`, or `[\p{L}\p{M}]` for Qwen3.5.
        var letters: UInt8 = ScalarClass.letter
    }

    @inline(__always)
    private static func fold(_ c: UInt32, _ unicode: Bool) -> UInt32 {
        if c >= 0x41 && c <= 0x5A { return c | 0x20 }
        if unicode && c == 0x17F { return 0x73 }
        return c
    }

    static func split(_ text: CodepointText, _ lo: Int, _ hi: Int, options: Options, into out: inout [PreTokenSpan]) {
        let L = options.letters, N = ScalarClass.number, W = ScalarClass.whitespace
        let unicode = options.unicodeCaseFolding
        text.scalars.withUnsafeBufferPointer { s in
            text.flags.withUnsafeBufferPointer { f in
                var pos = lo
                while pos < hi {
                    let c = s[pos]
                    let fc = f[pos]
                    var end = pos
                    if c == 0x27, pos + 1 < hi {
                        let n1 = fold(s[pos + 1], unicode)
                        if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                            end = pos + 2
                        } else if pos + 2 < hi {
                            let n2 = fold(s[pos + 2], unicode)
                            if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                                end = pos + 3
                            }
                        }
                    }
                    if end > pos {
                        // contraction
                    } else if fc & L != 0 {
                        end = pos + 1
                        while end < hi && f[end] & L != 0 { end += 1 }
                    } else if c != 0x0D && c != 0x0A && fc & N == 0 && pos + 1 < hi && f[pos + 1] & L != 0 {
                        end = pos + 2
                        while end < hi && f[end] & L != 0 { end += 1 }
                    } else if fc & N != 0 {
                        end = pos + 1
                        while end < hi && end - pos < options.maxDigits && f[end] & N != 0 { end += 1 }
                    } else {
                        let start = (c == 0x20 && pos + 1 < hi && f[pos + 1] & (L | N | W) == 0) ? pos + 1 : pos
                        if f[start] & (L | N | W) == 0 {
                            end = start + 1
                            while end < hi && f[end] & (L | N | W) == 0 { end += 1 }
                            while end < hi && (s[end] == 0x0D || s[end] == 0x0A) { end += 1 }
                        } else {
                            var run = pos
                            var afterNewline = -1
                            while run < hi && f[run] & W != 0 {
                                if s[run] == 0x0D || s[run] == 0x0A { afterNewline = run + 1 }
                                run += 1
                            }
                            if afterNewline > 0 {
                                end = afterNewline
                            } else {
                                end = (run - pos > 1 && run < hi) ? run - 1 : run
                            }
                        }
                    }
                    out.append(PreTokenSpan(pos, end, true))
                    pos = end
                }
            }
        }
    }
}

/// `\p{N}` as a match per character (HF `Digits(individual_digits: true)`); the text between
/// digits comes out as gaps.
enum DigitSplitter {
    static func split(_ text: CodepointText, _ lo: Int, _ hi: Int, into out: inout [PreTokenSpan]) {
        text.flags.withUnsafeBufferPointer { f in
            var gapStart = lo
            for i in lo..<hi where f[i] & ScalarClass.number != 0 {
                if gapStart < i { out.append(PreTokenSpan(gapStart, i, false)) }
                out.append(PreTokenSpan(i, i + 1, true))
                gapStart = i + 1
            }
            if gapStart < hi { out.append(PreTokenSpan(gapStart, hi, false)) }
        }
    }
}
