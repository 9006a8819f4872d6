/// Everything needed to build a tokenizer, in the shape GGUF stores it
/// (`tokenizer.ggml.*`). The engine's GGUF reader fills this in.
public struct VocabularySpec: Sendable {
    /// GGUF `tokenizer.ggml.model`.
    public enum Model: String, Sendable {
        /// `"gpt2"`: byte-level BPE.
        case bpe = "gpt2"
        /// `"llama"`: SentencePiece with scores and byte fallback.
        case sentencePiece = "llama"
        /// `"bert"`: WordPiece.
        case wordPiece = "bert"
    }

    public var model: Model
    /// Token strings by id (byte-level encoded for BPE, `▁` for spaces in SentencePiece).
    public var tokens: [String]
    /// `llama_token_type` per token; empty means all NORMAL.
    public var tokenTypes: [Int32]
    /// SentencePiece merge scores per token; empty means all zero.
    public var scores: [Float]
    /// BPE merges as `"left right"`; the rank of a merge is its index.
    public var merges: [String]
    public var bosID: Int32?
    public var eosID: Int32?
    public var unknownID: Int32?
    public var paddingID: Int32?
    /// GGUF `add_bos_token`.
    public var addBOS: Bool
    /// GGUF `add_eos_token`.
    public var addEOS: Bool
    /// GGUF `add_space_prefix` (SentencePiece only).
    public var addSpacePrefix: Bool
    /// GGUF `tokenizer.ggml.pre` (BPE only), e.g. `"smollm"`, `"llama-bpe"`, `"qwen2"`.
    public var preTokenizer: String
    /// Use a whole pre-token as-is when it is in the vocabulary; nil picks llama.cpp's
    /// default for `preTokenizer` (true for the llama3 family).
    public var ignoreMerges: Bool?
    /// WordPiece normalization (GGUF `tokenizer.ggml.normalizer.*`); nil takes llama.cpp's
    /// default (lowercase, and strip accents when lowercasing).
    public var lowercase: Bool?
    public var stripAccents: Bool?

    public init(
        model: Model,
        tokens: [String],
        tokenTypes: [Int32] = [],
        scores: [Float] = [],
        merges: [String] = [],
        bosID: Int32? = nil,
        eosID: Int32? = nil,
        unknownID: Int32? = nil,
        paddingID: Int32? = nil,
        addBOS: Bool = false,
        addEOS: Bool = false,
        addSpacePrefix: Bool = false,
        preTokenizer: String = "default",
        ignoreMerges: Bool? = nil
    ) {
        self.model = model
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.preTokenizer = preTokenizer
        self.ignoreMerges = ignoreMerges
    }

    /// Builds the tokenizer this spec describes.
    public func makeTokenizer() throws(TokenizerError) -> any Tokenizer {
        switch model {
        case .bpe: return try BPETokenizer(spec: self)
        case .sentencePiece: return try SentencePieceTokenizer(spec: self)
        case .wordPiece: return try WordPieceTokenizer(spec: self)
        }
    }

    /// Checks the arrays agree and normalises types (missing → NORMAL, empty text → placeholder).
    func validatedTokens() throws(TokenizerError) -> (texts: [String], types: [TokenType]) {
        guard !tokens.isEmpty else { throw .invalidVocabulary("no tokens") }
        guard tokens.count < Int(Int32.max) else { throw .invalidVocabulary("too many tokens") }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw .invalidVocabulary("\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        guard scores.isEmpty || scores.count == tokens.count else {
            throw .invalidVocabulary("\(scores.count) scores for \(tokens.count) tokens")
        }
        for (name, id) in [("bos", bosID), ("eos", eosID), ("unknown", unknownID), ("padding", paddingID)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw .invalidVocabulary("\(name) id \(id) outside vocabulary of \(tokens.count)")
            }
        }
        var texts = tokens
        // llama.cpp renames empty tokens so they can never match input text.
        for i in texts.indices where texts[i].isEmpty { texts[i] = "[EMPTY_\(i)]" }
        var types = tokenTypes.isEmpty
            ? Array(repeating: TokenType.normal, count: tokens.count)
            : tokenTypes.map(TokenType.init(raw:))
        // llama.cpp retypes tokens it recognises by text, whatever the converter stored.
        for i in texts.indices {
            if types[i] != .control && Self.forcedControlTexts.contains(texts[i]) {
                types[i] = .control
            } else if Self.forcedUserDefinedTexts.contains(texts[i]) {
                types[i] = .userDefined
            }
        }
        return (texts, types)
    }

    /// Texts llama.cpp (`llama_vocab::impl::load`) treats as end-of-turn, end-of-generation
    /// or fill-in-the-middle markers and forces to CONTROL. Note `</s>`: Gemma's HTML
    /// strikethrough tag is USER_DEFINED in the GGUF but becomes CONTROL there.
    static let forcedControlTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<｜end▁of▁sentence｜>", "<end_of_utterance>", "<|eom_id|>",
        "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "</s>", "<eos>", "<turn|>", "<|tool_response>", "[e~[",
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
    ]

    /// gpt-oss channel markers llama.cpp always parses and renders.
    static let forcedUserDefinedTexts: Set<String> = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
}
