/// Why a request failed. Other requests are never affected.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    case promptTooLong(tokens: Int, limit: Int)
    case emptyPrompt
    case invalidToken(Int32, vocabSize: Int)
    case template(String)
    case shutDown

    public var description: String {
        switch self {
        case let .promptTooLong(tokens, limit): "the prompt has \(tokens) tokens but at most \(limit) fit (context and KV cache)"
        case .emptyPrompt: "the prompt is empty"
        case let .invalidToken(id, vocab): "token id \(id) is outside the vocabulary (0..<\(vocab))"
        case let .template(m): "chat template: \(m)"
        case .shutDown: "the engine has shut down"
        }
    }
}
