/// Why a request failed. Other requests are never affected.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    case promptTooLong(tokens: Int, limit: Int)
    case emptyPrompt
    case invalidToken(Int32, vocabSize: Int)
    case template(String)
    case shutDown
    /// `--speculative-algorithm nextn` on a model without an MTP (nextn) layer.
    case noDraftLayer(model: String)

    public var description: String {
        switch self {
        case let .promptTooLong(tokens, limit): "the prompt has \(tokens) tokens but at most \(limit) fit (context and KV cache)"
        case .emptyPrompt: "the prompt is empty"
        case let .invalidToken(id, vocab): "token id \(id) is outside the vocabulary (0..<\(vocab))"
        case let .template(m): "chat template: \(m)"
        case .shutDown: "the engine has shut down"
        case let .noDraftLayer(m): "--speculative-algorithm nextn needs a model with an MTP (nextn) layer; \(m) has none (ngram drafts for any model)"
        }
    }
}
