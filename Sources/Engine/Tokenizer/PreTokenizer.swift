/// Splits text into pre-tokens before BPE, as a sequence of split steps: each step
/// re-splits every piece produced by the previous one (llama.cpp `unicode_regex_split`,
/// HF `Sequence`).
public struct PreTokenizer: Sendable {
    enum Rule: Sendable {
        case gpt2
        case llama3(Llama3Splitter.Options)
        case digits
        /// tokenizer.json `Split` patterns the hand-written splitters do not cover (ICU).
        case regex(RegexSplitter)
        case kimiK2
        case digitGroups
        case newlineRuns
        /// A llama.cpp regex it runs through std::regex: over the collapsed text (every
        /// non-ASCII scalar replaced by one byte per category) when the pattern names a
        /// category, else over the scalars with non-ASCII whitespace replaced by U+000B.
        case llamaRegex(RegexProgram, collapsed: Bool)
    }

    /// HF `SplitDelimiterBehavior`.
    enum Behavior: String, Sendable {
        case isolated = "Isolated"
        case removed = "Removed"
        case mergedWithPrevious = "MergedWithPrevious"
        case mergedWithNext = "MergedWithNext"
        case contiguous = "Contiguous"
    }

    struct Step: Sendable {
        var rule: Rule
        var behavior: Behavior = .isolated
        var invert = false
    }

    let steps: [Step]
    /// HF `ByteLevel(add_prefix_space: true)`: prepend a space to text not starting with one.
    let addPrefixSpace: Bool

    init(steps: [Step], addPrefixSpace: Bool = false) {
        self.steps = steps
        self.addPrefixSpace = addPrefixSpace
    }

    // MARK: Built-in pre-tokenizers (llama.cpp `llama-vocab.cpp`)

    /// GPT-2 regex alone (`gpt2`, `default`, `mpt`, `olmo`, …).
    public static let gpt2 = PreTokenizer(steps: [Step(rule: .gpt2)])
    /// `\p{N}` per digit, then GPT-2 (`smollm`, `starcoder`, `refact`, `command-r`, …).
    public static let smollm = PreTokenizer(steps: [Step(rule: .digits), Step(rule: .gpt2)])
    /// llama3 regex with up to 3 digits per piece (`llama3`, `llama-bpe`, …).
    public static let llama3 = PreTokenizer(steps: [Step(rule: .llama3(.init(unicodeCaseFolding: false, maxDigits: 3)))])
    /// qwen2 regex: as llama3 but one digit per piece and `(?i:…)` contractions.
    public static let qwen2 = PreTokenizer(steps: [Step(rule: .llama3(.init(unicodeCaseFolding: true, maxDigits: 1)))])
    /// bailingmoe2 (Ling 2.0); its possessive quantifiers split exactly like qwen2.
    public static let bailingMoe2 = qwen2

    /// The pre-tokenizer llama.cpp uses for a GGUF `tokenizer.ggml.pre` value.
    public static func named(_ llamaCppName: String) throws(TokenizerError) -> PreTokenizer {
        guard let llama = LlamaPreTokenizer.named(llamaCppName) else {
            throw .unsupportedPreTokenizer("GGUF pre-tokenizer '\(llamaCppName)'")
        }
        return try llamaCpp(llama.regexes)
    }

    /// Whether llama.cpp skips merges for pre-tokens already in the vocabulary.
    static func ignoresMerges(_ llamaCppName: String) -> Bool {
        LlamaPreTokenizer.named(llamaCppName)?.ignoreMerges ?? false
    }

    /// The same regexes as `named`, all through the general regex engine, none through the
    /// hand-written splitters: for measuring one against the other.
    public static func namedGeneralRegex(_ llamaCppName: String) throws(TokenizerError) -> PreTokenizer {
        guard let llama = LlamaPreTokenizer.named(llamaCppName) else {
            throw .unsupportedPreTokenizer("GGUF pre-tokenizer '\(llamaCppName)'")
        }
        return try llamaCpp(llama.regexes, handWritten: false)
    }

    /// The number of pre-tokens of `text` (a benchmark's unit of work).
    public func pieceCount(_ text: String) -> Int {
        let codepoints = CodepointText(text)
        var pieces: [PreTokenSpan] = []
        var scratch = PreTokenizerScratch()
        split(codepoints, into: &pieces, scratch: &scratch)
        return pieces.count
    }

    /// llama.cpp's `unicode_regex_split` over `regexes`: the patterns it recognises by text take
    /// its hand-written splitters, the others run as regexes with its std::regex semantics.
    static func llamaCpp(_ regexes: [String], handWritten: Bool = true) throws(TokenizerError) -> PreTokenizer {
        var steps: [Step] = []
        for pattern in regexes {
            if handWritten, let rule = llamaCustomRules[pattern] {
                steps.append(Step(rule: rule))
            } else if let collapsed = try LlamaCollapse.pattern(pattern) {
                steps.append(Step(rule: .llamaRegex(try RegexProgram(pattern: collapsed, flavor: .ecmascript), collapsed: true)))
            } else {
                steps.append(Step(rule: .llamaRegex(try RegexProgram(pattern: pattern, flavor: .ecmascript), collapsed: false)))
            }
        }
        return PreTokenizer(steps: steps)
    }

    /// The exact pattern texts llama.cpp's `unicode_regex_split_custom` answers itself.
    private static let llamaCustomRules: [String: Rule] = {
        let ascii = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?"#
        let tail = #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        return [
            #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#: .gpt2,
            #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"# + tail:
                .llama3(.init(unicodeCaseFolding: false, maxDigits: 3)),
            ascii + #"\p{L}+|\p{N}{1,3}"# + tail: .llama3(.init(unicodeCaseFolding: false, maxDigits: 3)),
            ascii + #"\p{L}+|\p{N}"# + tail: .llama3(.init(unicodeCaseFolding: false, maxDigits: 1)),
            ascii + #"[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#:
                .llama3(.init(unicodeCaseFolding: false, maxDigits: 1, letters: ScalarClass.letter | ScalarClass.mark)),
            #"\p{Han}+"#: .kimiK2,
            #"\p{AFMoE_digits}"#: .digitGroups,
            #"\d{1,3}(?=(?:\d{3})*\b)"#: .digitGroups,
            #"[^\n]+|[\n]+"#: .newlineRuns,
        ]
    }()

    /// Successive regexes with Isolated behavior (llama.cpp's `regex_exprs` list). Known
    /// patterns run hand-written; others go through ICU.
    public static func regex(_ patterns: [String]) throws(TokenizerError) -> PreTokenizer {
        var steps: [Step] = []
        for pattern in patterns { steps.append(Step(rule: try rule(forPattern: pattern))) }
        return PreTokenizer(steps: steps)
    }

    static func rule(forPattern pattern: String) throws(TokenizerError) -> Rule {
        if let known = knownPatterns[pattern] { return known }
        return .regex(try RegexSplitter(pattern: pattern))
    }

    private static let knownPatterns: [String: Rule] = {
        let tail = #"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let ci = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+"#
        let ascii = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+"#
        let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
        return [
            gpt2: .gpt2,
            gpt2 + #"|\s+"#: .gpt2,
            #"\p{N}"#: .digits,
            ci + #"|\p{N}{1,3}"# + tail: .llama3(.init(unicodeCaseFolding: true, maxDigits: 3)),
            ascii + #"|\p{N}{1,3}"# + tail: .llama3(.init(unicodeCaseFolding: false, maxDigits: 3)),
            ci + #"|\p{N}"# + tail: .llama3(.init(unicodeCaseFolding: true, maxDigits: 1)),
            ascii + #"|\p{N}"# + tail: .llama3(.init(unicodeCaseFolding: false, maxDigits: 1)),
            #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#:
                .llama3(.init(unicodeCaseFolding: true, maxDigits: 1)),
        ]
    }()

    // MARK: Splitting

    /// The pre-tokens of `text`, for inspection and tests.
    public func split(_ text: String) -> [String] {
        let input = addPrefixSpace && !text.hasPrefix(" ") ? " " + text : text
        let codepoints = CodepointText(input)
        var pieces: [PreTokenSpan] = []
        var scratch = PreTokenizerScratch()
        split(codepoints, into: &pieces, scratch: &scratch)
        return pieces.map { codepoints.string(Int($0.lo)..<Int($0.hi)) }
    }

    /// Fills `pieces` with the final pre-token ranges of `text`.
    func split(_ text: CodepointText, into pieces: inout [PreTokenSpan], scratch: inout PreTokenizerScratch) {
        pieces.removeAll(keepingCapacity: true)
        guard text.count > 0 else { return }
        scratch.prepare(text, for: steps)
        pieces.append(PreTokenSpan(0, text.count, false))
        var next: [PreTokenSpan] = []
        var matches = scratch.spans
        for step in steps {
            next.removeAll(keepingCapacity: true)
            for piece in pieces {
                if step.behavior == .isolated && !step.invert {
                    run(step.rule, text, Int(piece.lo), Int(piece.hi), &next, &scratch)
                } else {
                    matches.removeAll(keepingCapacity: true)
                    run(step.rule, text, Int(piece.lo), Int(piece.hi), &matches, &scratch)
                    Self.apply(step.behavior, invert: step.invert, matches, into: &next)
                }
            }
            swap(&pieces, &next)
        }
        scratch.spans = matches
    }

    @inline(__always)
    private func run(_ rule: Rule, _ text: CodepointText, _ lo: Int, _ hi: Int, _ out: inout [PreTokenSpan],
                     _ scratch: inout PreTokenizerScratch) {
        switch rule {
        case .gpt2: GPT2Splitter.split(text, lo, hi, into: &out)
        case .llama3(let options): Llama3Splitter.split(text, lo, hi, options: options, into: &out)
        case .digits: DigitSplitter.split(text, lo, hi, into: &out)
        case .regex(let splitter): splitter.split(text, lo, hi, into: &out)
        case .kimiK2: KimiK2Splitter.split(text, lo, hi, into: &out)
        case .digitGroups: DigitGroupSplitter.split(text, lo, hi, into: &out)
        case .newlineRuns: NewlineRunSplitter.split(text, lo, hi, into: &out)
        case .llamaRegex(let program, let collapsed):
            let view = collapsed ? scratch.collapsed : scratch.wide
            view.withUnsafeBufferPointer { program.split($0, lo, hi, stack: &scratch.stack, into: &out) }
        }
    }

    /// HF `NormalizedString::split` behaviors over one piece's matches and gaps.
    static func apply(_ behavior: Behavior, invert: Bool, _ spans: [PreTokenSpan], into out: inout [PreTokenSpan]) {
        let start = out.count
        var previousMatch = false
        func isMatch(_ span: PreTokenSpan) -> Bool { span.isMatch != invert }
        switch behavior {
        case .isolated:
            out += spans
        case .removed:
            for span in spans where !isMatch(span) { out.append(span) }
        case .mergedWithPrevious:
            for span in spans {
                let match = isMatch(span)
                if match && !previousMatch && out.count > start {
                    out[out.count - 1].hi = span.hi
                } else {
                    out.append(span)
                }
                previousMatch = match
            }
        case .mergedWithNext:
            var reversed: [PreTokenSpan] = []
            for span in spans.reversed() {
                let match = isMatch(span)
                if match && !previousMatch && !reversed.isEmpty {
                    reversed[reversed.count - 1].lo = span.lo
                } else {
                    reversed.append(span)
                }
                previousMatch = match
            }
            out += reversed.reversed()
        case .contiguous:
            for span in spans {
                let match = isMatch(span)
                if match == previousMatch && out.count > start {
                    out[out.count - 1].hi = span.hi
                } else {
                    out.append(span)
                }
                previousMatch = match
            }
        }
    }
}
