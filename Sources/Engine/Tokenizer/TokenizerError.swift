/// Everything that can go wrong while building or loading a tokenizer.
///
/// Encoding and decoding never throw: bad input there degrades (unknown bytes,
/// U+FFFD for out-of-range ids) instead of trapping.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tokenizer file does not exist.
    case fileNotFound(path: String)
    /// A tokenizer file is not valid JSON or lacks a required field.
    case malformedJSON(String)
    /// The model family is not one this module implements (e.g. WordPiece, Unigram).
    case unsupportedModelType(String)
    /// A pre-tokenizer name or configuration is not implemented.
    case unsupportedPreTokenizer(String)
    /// A normalizer in tokenizer.json is not implemented.
    case unsupportedNormalizer(String)
    /// A regular expression from a tokenizer definition failed to compile.
    case invalidRegex(pattern: String, reason: String)
    /// The vocabulary arrays are inconsistent (empty, mismatched lengths, missing byte tokens).
    case invalidVocabulary(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "tokenizer file not found: \(path)"
        case .malformedJSON(let reason):
            return "malformed tokenizer JSON: \(reason)"
        case .unsupportedModelType(let type):
            return "unsupported tokenizer model type '\(type)' (supported: byte-level BPE, SentencePiece via GGUF)"
        case .unsupportedPreTokenizer(let what):
            return "unsupported pre-tokenizer: \(what)"
        case .unsupportedNormalizer(let what):
            return "unsupported normalizer: \(what)"
        case .invalidRegex(let pattern, let reason):
            return "invalid pre-tokenizer regex \(pattern): \(reason)"
        case .invalidVocabulary(let reason):
            return "invalid vocabulary: \(reason)"
        }
    }
}
