/// Splits text into pre-tokens before BPE, as a sequence of split steps: each step
/// re-splits every piece produced by the previous one (llama.cpp `unicode_regex_split`,
/// HF `Sequence`).
public struct PreTokenizer: Sendable {
    enum Rule: Sendable {
        case gpt2
        case llama3(Llama3Splitter.Options)
        case digits
        case regex(RegexSplitter)
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
        switch llamaCppName {
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            return smollm
        case "gpt-2", "gpt2", "default", "phi-2", "mpt", "olmo", "jais", "trillion", "granite-docling":
            return gpt2
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2":
            return llama3
        case "qwen2", "deepseek-r1-qwen", "stablelm2", "megrez", "hunyuan":
            return qwen2
        case "bailingmoe2":
            return bailingMoe2
        default:
            throw .unsupportedPreTokenizer("GGUF pre-tokenizer '\(llamaCppName)'")
        }
    }

    /// Whether llama.cpp skips merges for pre-tokens already in the vocabulary.
    static func ignoresMerges(_ llamaCppName: String) -> Bool {
        ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"].contains(llamaCppName)
    }

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
        var scratch: [PreTokenSpan] = []
        split(codepoints, into: &pieces, scratch: &scratch)
        return pieces.map { codepoints.string(Int($0.lo)..<Int($0.hi)) }
    }

    /// Fills `pieces` with the final pre-token ranges of `text`.
    func split(_ text: CodepointText, into pieces: inout [PreTokenSpan], scratch: inout [PreTokenSpan]) {
        pieces.removeAll(keepingCapacity: true)
        guard text.count > 0 else { return }
        pieces.append(PreTokenSpan(0, text.count, false))
        var next: [PreTokenSpan] = []
        var matches = scratch
        for step in steps {
            next.removeAll(keepingCapacity: true)
            for piece in pieces {
                if step.behavior == .isolated && !step.invert {
                    run(step.rule, text, Int(piece.lo), Int(piece.hi), &next)
                } else {
                    matches.removeAll(keepingCapacity: true)
                    run(step.rule, text, Int(piece.lo), Int(piece.hi), &matches)
                    Self.apply(step.behavior, invert: step.invert, matches, into: &next)
                }
            }
            swap(&pieces, &next)
        }
        scratch = matches
    }

    @inline(__always)
    private func run(_ rule: Rule, _ text: CodepointText, _ lo: Int, _ hi: Int, _ out: inout [PreTokenSpan]) {
        switch rule {
        case .gpt2: GPT2Splitter.split(text, lo, hi, into: &out)
        case .llama3(let options): Llama3Splitter.split(text, lo, hi, options: options, into: &out)
        case .digits: DigitSplitter.split(text, lo, hi, into: &out)
        case .regex(let splitter): splitter.split(text, lo, hi, into: &out)
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
