/// A Hugging Face chat template (`tokenizer_config.json` → `chat_template`), parsed once
/// and rendered with the same output jinja2 produces inside `transformers.apply_chat_template`:
/// `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` with loop controls,
/// `raise_exception`, `strftime_now` and a non-HTML-escaping `tojson`.
///
/// ```swift
/// let template = try ChatTemplate(source)
/// let prompt = try template.render(messages: [["role": "user", "content": "Hi"]],
///                                  addGenerationPrompt: true, bosToken: "<bos>", eosToken: "<eos>")
/// ```
public struct ChatTemplate: Sendable {
    /// The template text as given.
    public let source: String
    let nodes: [Node]
    let limits: RenderLimits

    /// Parses `source`. Malformed templates throw ``ChatTemplateError/syntax(line:column:message:)``;
    /// tags this interpreter does not implement throw ``ChatTemplateError/unsupported(_:)``.
    public init(_ source: String) throws {
        try self.init(source, limits: RenderLimits())
    }

    init(_ source: String, limits: RenderLimits) throws {
        self.source = source
        self.nodes = try Parser.parse(source)
        self.limits = limits
    }

    /// Renders with an explicit variable context (`messages`, `add_generation_prompt`, ...).
    /// Variables missing from `context` are jinja2 `Undefined`.
    public func render(_ context: [String: JinjaValue]) throws -> String {
        try Interpreter(limits: limits).render(nodes, context: context)
    }
}

extension ChatTemplate {
    /// Renders the way `tokenizer.apply_chat_template(messages, tokenize=False, ...)` does.
    /// Messages are objects as transformers receives them (role/content, tool calls, content
    /// parts, `reasoning_content`); `tools` are their JSON schemas.
    ///
    /// Like transformers, `tools` and `documents` are always defined (as `none` unless given),
    /// special tokens are only defined when non-nil, and `extra` (e.g. `enable_thinking`)
    /// is merged last so it can override anything.
    public func render(messages: [JinjaValue], tools: [JinjaValue]? = nil, addGenerationPrompt: Bool,
                       bosToken: String?, eosToken: String?, extra: [String: JinjaValue] = [:]) throws -> String {
        try render(Self.context(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                bosToken: bosToken, eosToken: eosToken, extra: extra))
    }

    /// The context dictionary transformers builds for a render.
    public static func context(messages: [JinjaValue], tools: [JinjaValue]? = nil, addGenerationPrompt: Bool,
                               bosToken: String?, eosToken: String?,
                               extra: [String: JinjaValue] = [:]) -> [String: JinjaValue] {
        var context: [String: JinjaValue] = [
            "messages": .array(messages),
            "tools": tools.map { .array($0) } ?? .none,
            "documents": .none,
            "add_generation_prompt": .bool(addGenerationPrompt),
        ]
        if let bosToken { context["bos_token"] = .string(bosToken) }
        if let eosToken { context["eos_token"] = .string(eosToken) }
        context.merge(extra) { _, new in new }
        return context
    }
}
