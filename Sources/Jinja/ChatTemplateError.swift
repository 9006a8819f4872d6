/// Everything that can go wrong parsing or rendering a chat template.
///
/// Cases mirror the jinja2 exception a Hugging Face render would raise, so callers
/// can tell a template's own `raise_exception(...)` from a bug or an unsupported feature.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The template source is malformed (jinja2 `TemplateSyntaxError`). Line and column are 1-based.
    case syntax(line: Int, column: Int, message: String)
    /// The template called `raise_exception(message)`.
    case raised(String)
    /// An undefined value was used where jinja2 raises `UndefinedError` (e.g. `foo.bar` with `foo` undefined).
    case undefined(String)
    /// An operation was applied to values of the wrong type (Python `TypeError`/`ValueError`, division by zero, ...).
    case type(String)
    /// The template uses a construct, filter, test or method this interpreter does not implement.
    case unsupported(String)
    /// The template tried something the sandbox forbids (e.g. `list.append`).
    case security(String)
    /// A guard against runaway templates tripped (recursion, iterations, output size).
    case limitExceeded(String)
    /// Input JSON given to ``JinjaValue/init(json:)`` is malformed.
    case invalidJSON(String)

    public var description: String {
        switch self {
        case .syntax(let line, let column, let message): "syntax error at \(line):\(column): \(message)"
        case .raised(let message): "template raised: \(message)"
        case .undefined(let message): "undefined: \(message)"
        case .type(let message): "type error: \(message)"
        case .unsupported(let message): "unsupported: \(message)"
        case .security(let message): "sandbox: \(message)"
        case .limitExceeded(let message): "limit exceeded: \(message)"
        case .invalidJSON(let message): "invalid JSON: \(message)"
        }
    }
}
