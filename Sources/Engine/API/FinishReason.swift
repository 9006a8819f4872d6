/// Why generation ended (OpenAI's `finish_reason`).
public enum FinishReason: String, Sendable, Codable {
    case stop, length
}
