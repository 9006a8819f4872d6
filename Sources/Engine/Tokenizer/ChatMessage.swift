import Jinja

/// One chat turn with plain text content: what a chat request carries. Templates that need
/// richer messages (tool calls, content parts) take ``JinjaValue`` objects directly.
public struct ChatMessage: Sendable, Equatable, Hashable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// `{"role": ..., "content": ...}` in that key order.
    public var jinjaValue: JinjaValue { .object([("role", .string(role)), ("content", .string(content))]) }
}

extension ChatTemplate {
    /// ``ChatTemplate/render(messages:tools:addGenerationPrompt:bosToken:eosToken:extra:)`` for
    /// plain chat turns.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String?, eosToken: String?,
                       extra: [String: JinjaValue] = [:]) throws -> String {
        try render(messages: messages.map(\.jinjaValue), addGenerationPrompt: addGenerationPrompt,
                   bosToken: bosToken, eosToken: eosToken, extra: extra)
    }
}
