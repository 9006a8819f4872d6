/// llama.cpp's other hand-written splitters (unicode.cpp `unicode_regex_split_custom_*`), which
/// it runs in place of the regexes `\p{Han}+` (Kimi K2), `\p{AFMoE_digits}` and
/// `\d{1,3}(?=(?:\d{3})*\b)` (digit groups) and `[^\n]+|[\n]+` (newline runs). Their quirks are
/// llama.cpp's and kept on purpose: ids must match its own.
enum KimiK2Splitter {
    static func split(_ text: CodepointText, _ lo: Int, _ hi: Int, into out: inout [PreTokenSpan]) {
        let L = ScalarClass.letter, N = ScalarClass.number, W = ScalarClass.whitespace
        let s = text.scalars, f = text.flags
        func han(_ p: Int) -> Bool { p < hi && RegexProperty.isHan(s[p]) }
        func flags(_ p: Int) -> UInt8 { p < hi ? f[p] : 0 }
        func letter(_ p: Int) -> Bool { flags(p) & L != 0 && !han(p) }
        var pos = lo
        var prev = lo
        func add(_ end: Int) {
            if end > prev { out.append(PreTokenSpan(prev, end, true)) }
            prev = end
        }
        while pos < hi {
            let c = s[pos], fc = f[pos]
            if RegexProperty.isHan(c) {
                while han(pos) { pos += 1 }
                add(pos)
                continue
            }
            let leadable = !(c == 0x0D || c == 0x0A || fc & (L | N) != 0)
            if letter(pos) || (leadable && letter(pos + 1)) {
                if leadable { pos += 1 }
                while letter(pos) { pos += 1 }
                // (?i:'s|'t|'re|'ve|'m|'ll|'d)?
                if pos < hi && s[pos] == 0x27 && pos + 1 < hi {
                    let n1 = Llama3Fold.ascii(s[pos + 1])
                    if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                        pos += 2
                    } else if pos + 2 < hi {
                        let n2 = Llama3Fold.ascii(s[pos + 2])
                        if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) { pos += 3 }
                    }
                }
                add(pos)
                continue
            }
            if fc & N != 0 {
                var start = pos
                while flags(pos) & N != 0 {
                    pos += 1
                    if pos - start >= 3 { add(pos); start = pos }
                }
                add(pos)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`; positions past the end have no flags and stop the run.
            let first = c == 0x20 ? pos + 1 : pos
            if first < hi && f[first] & (W | L | N) == 0 {
                pos = first
                while pos < hi && f[pos] & (W | L | N) == 0 { pos += 1 }
                while pos < hi && (s[pos] == 0x0D || s[pos] == 0x0A) { pos += 1 }
                add(pos)
                continue
            }
            var run = 0, lastNewline = 0
            while pos + run < hi && f[pos + run] & W != 0 {
                if s[pos + run] == 0x0D || s[pos + run] == 0x0A { lastNewline = pos + run + 1 }
                run += 1
            }
            if lastNewline > 0 {
                pos = lastNewline
            } else if run > 1 && pos + run < hi {
                pos += run - 1
            } else if run > 0 {
                pos += run
            } else {
                pos += 1
            }
            add(pos)
        }
    }
}

enum Llama3Fold {
    /// llama.cpp's `unicode_tolower` as the contraction checks use it: only ASCII capitals
    /// fold to the letters they compare with.
    @inline(__always)
    static func ascii(_ c: UInt32) -> UInt32 { (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }
}

/// Digit runs cut into groups of three from the right; the text before a run goes out with
/// the run's first (short) group, as llama.cpp's `unicode_regex_split_custom_afmoe` does.
enum DigitGroupSplitter {
    static func split(_ text: CodepointText, _ lo: Int, _ hi: Int, into out: inout [PreTokenSpan]) {
        let N = ScalarClass.number
        let f = text.flags
        var prev = lo
        func add(_ end: Int) {
            if end > prev { out.append(PreTokenSpan(prev, end, true)) }
            prev = end
        }
        var pos = lo
        while pos < hi {
            guard f[pos] & N != 0 else { pos += 1; continue }
            let start = pos
            while pos < hi && f[pos] & N != 0 { pos += 1 }
            var current = start
            let remainder = (pos - start) % 3
            if remainder > 0 { add(current + remainder); current += remainder }
            while current < pos { add(current + 3); current += 3 }
        }
        if prev < hi { add(hi) }
    }
}

/// `[^\n]+|[\n]+`: runs of newlines and runs of everything else.
enum NewlineRunSplitter {
    static func split(_ text: CodepointText, _ lo: Int, _ hi: Int, into out: inout [PreTokenSpan]) {
        let s = text.scalars
        var pos = lo
        while pos < hi {
            let newline = s[pos] == 0x0A
            let start = pos
            while pos < hi && (s[pos] == 0x0A) == newline { pos += 1 }
            out.append(PreTokenSpan(start, pos, true))
        }
    }
}
