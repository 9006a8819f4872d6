/// Recursive-descent parser, a close port of jinja2's `parser.py` for the supported subset.
/// Operator precedence and the quirks of `is` tests and filters follow jinja2 exactly,
/// because templates in the wild rely on them (e.g. `a ~ b | trim`).
struct Parser {
    let tokens: [Token]
    var index = 0
    var depth = 0
    var loopDepth = 0
    static let maxDepth = 200

    /// Tags we recognise but deliberately do not implement (they need a template loader
    /// or have no use in chat templates); reported as unsupported rather than unknown.
    private static let unsupportedTags: Set<String> = [
        "block", "extends", "include", "import", "from", "autoescape", "endblock",
    ]

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ source: String) throws -> [Node] {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        let body = try parser.subparse(endTags: [])
        guard case .eof = parser.current.kind else {
            throw parser.error("unexpected \(parser.describe(parser.current))")
        }
        return body
    }

    // MARK: - Token helpers

    var current: Token { tokens[index] }
    func peek(_ offset: Int = 1) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    func error(_ message: String, at token: Token? = nil) -> ChatTemplateError {
        let t = token ?? current
        return .syntax(line: t.line, column: t.column, message: message)
    }

    func describe(_ token: Token) -> String {
        switch token.kind {
        case .text: "template data"
        case .blockBegin: "begin of statement block"
        case .blockEnd: "end of statement block"
        case .variableBegin: "begin of print statement"
        case .variableEnd: "end of print statement"
        case .name(let n): n
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .op(let o): o
        case .eof: "end of template"
        }
    }

    func isName(_ name: String, _ token: Token? = nil) -> Bool {
        if case .name(let n) = (token ?? current).kind { return n == name }
        return false
    }

    func isOp(_ op: String, _ token: Token? = nil) -> Bool {
        if case .op(let o) = (token ?? current).kind { return o == op }
        return false
    }

    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        advance()
        return true
    }

    mutating func skipOp(_ op: String) -> Bool {
        guard isOp(op) else { return false }
        advance()
        return true
    }

    mutating func expectOp(_ op: String) throws {
        guard skipOp(op) else { throw error("expected token '\(op)', got '\(describe(current))'") }
    }

    mutating func expectName(_ name: String? = nil) throws -> String {
        if case .name(let n) = current.kind, name == nil || n == name {
            advance()
            return n
        }
        throw error("expected token '\(name ?? "name")', got '\(describe(current))'")
    }

    mutating func expectBlockEnd() throws {
        guard case .blockEnd = current.kind else {
            throw error("expected token 'end of statement block', got '\(describe(current))'")
        }
        advance()
    }

    mutating func nest() throws {
        depth += 1
        if depth > Self.maxDepth { throw error("template nested too deeply (limit \(Self.maxDepth))") }
    }

    /// Left-associative loops (`a + b + c`, `x|f|g`, `x.a.b`) build trees as deep as the chain
    /// is long; each link counts against the same budget as explicit nesting.
    mutating func link(_ links: inout Int) throws {
        links += 1
        try nest()
    }

    // MARK: - Statements

    mutating func subparse(endTags: Set<String>) throws -> [Node] {
        var body: [Node] = []
        while true {
            switch current.kind {
            case .eof:
                return body
            case .text(let text):
                body.append(.text(text))
                advance()
            case .variableBegin:
                advance()
                body.append(.output(try parseTuple()))
                guard case .variableEnd = current.kind else {
                    throw error("expected token 'end of print statement', got '\(describe(current))'")
                }
                advance()
            case .blockBegin:
                advance()
                if case .name(let n) = current.kind, endTags.contains(n) { return body }
                body.append(try parseStatement())
                try expectBlockEnd()
            default:
                throw error("unexpected \(describe(current))")
            }
        }
    }

    /// Parses `%}` body `{% endtag` and leaves the end tag name current (or consumed if `drop`).
    mutating func parseStatements(until endTags: Set<String>, drop: Bool = false, innermost: String) throws -> [Node] {
        try expectBlockEnd()
        let body = try subparse(endTags: endTags)
        if case .eof = current.kind {
            let wanted = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
            throw error("Unexpected end of template. Jinja was looking for the following tags: \(wanted). "
                        + "The innermost block that needs to be closed is '\(innermost)'.")
        }
        if drop { advance() }
        return body
    }

    mutating func parseStatement() throws -> Node {
        try nest()
        defer { depth -= 1 }
        let token = current
        guard case .name(let tag) = token.kind else { throw error("tag name expected") }
        switch tag {
        case "for": return try parseFor()
        case "if": return try parseIf()
        case "set": return try parseSet()
        case "macro": return try parseMacro()
        case "call": return try parseCallBlock()
        case "filter": return try parseFilterBlock()
        case "with": return try parseWith()
        case "generation":
            // Hugging Face's AssistantTracker tag: renders its body unchanged.
            advance()
            let body = try parseStatements(until: ["endgeneration"], drop: true, innermost: "generation")
            return .with(assignments: [], body: body)
        case "break", "continue":
            advance()
            guard loopDepth > 0 else { throw error("'\(tag)' outside loop", at: token) }
            return tag == "break" ? .breakLoop : .continueLoop
        default:
            if Self.unsupportedTags.contains(tag) {
                throw ChatTemplateError.unsupported("the '{% \(tag) %}' tag (line \(token.line))")
            }
            throw error("Encountered unknown tag '\(tag)'.", at: token)
        }
    }

    mutating func parseFor() throws -> Node {
        advance()
        let target = try parseAssignTarget(extraEnd: ["in"])
        _ = try expectName("in")
        let iterable = try parseTuple(withCondExpr: false, extraEnd: ["recursive"])
        var condition: Expr?
        if skipName("if") { condition = try parseExpression() }
        if isName("recursive") { throw ChatTemplateError.unsupported("recursive for loops (line \(current.line))") }
        loopDepth += 1
        let body = try parseStatements(until: ["endfor", "else"], innermost: "for")
        loopDepth -= 1
        var otherwise: [Node] = []
        if isName("else") {
            advance()
            otherwise = try parseStatements(until: ["endfor"], drop: true, innermost: "for")
        } else {
            advance()
        }
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body, otherwise: otherwise))
    }

    mutating func parseIf() throws -> Node {
        advance()
        var branches: [(condition: Expr, body: [Node])] = []
        var otherwise: [Node] = []
        while true {
            let condition = try parseTuple(withCondExpr: false)
            let body = try parseStatements(until: ["elif", "else", "endif"], innermost: "if")
            branches.append((condition, body))
            let tag = current
            advance()
            if isName("elif", tag) { continue }
            if isName("else", tag) {
                otherwise = try parseStatements(until: ["endif"], drop: true, innermost: "if")
            }
            break
        }
        return .ifChain(branches: branches, otherwise: otherwise)
    }

    mutating func parseSet() throws -> Node {
        advance()
        let target = try parseAssignTarget(withNamespace: true)
        if skipOp("=") {
            return .set(target: target, value: try parseTuple())
        }
        var filters: [FilterCall] = []
        while skipOp("|") { filters.append(try parseFilterCall()) }
        let body = try parseStatements(until: ["endset"], drop: true, innermost: "set")
        return .setBlock(target: target, filters: filters, body: body)
    }

    mutating func parseSignature() throws -> (parameters: [String], defaults: [Expr]) {
        try expectOp("(")
        var parameters: [String] = []
        var defaults: [Expr] = []
        while !isOp(")") {
            if !parameters.isEmpty { try expectOp(",") }
            let name = try expectName()
            if skipOp("=") {
                defaults.append(try parseExpression())
            } else if !defaults.isEmpty {
                throw error("non-default argument follows default argument")
            }
            parameters.append(name)
        }
        try expectOp(")")
        return (parameters, defaults)
    }

    mutating func parseMacro() throws -> Node {
        advance()
        let name = try expectName()
        let (parameters, defaults) = try parseSignature()
        let savedLoopDepth = loopDepth
        loopDepth = 0
        defer { loopDepth = savedLoopDepth }
        let body = try parseStatements(until: ["endmacro"], drop: true, innermost: "macro")
        return .macro(MacroDefinition(name: name, parameters: parameters, defaults: defaults, body: body))
    }

    mutating func parseCallBlock() throws -> Node {
        let start = current
        advance()
        var signature: (parameters: [String], defaults: [Expr]) = ([], [])
        if isOp("(") { signature = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call else { throw error("expected call", at: start) }
        let savedLoopDepth = loopDepth
        loopDepth = 0
        defer { loopDepth = savedLoopDepth }
        let body = try parseStatements(until: ["endcall"], drop: true, innermost: "call")
        let caller = MacroDefinition(name: "caller", parameters: signature.parameters,
                                     defaults: signature.defaults, body: body)
        return .callBlock(call: call, caller: caller)
    }

    mutating func parseFilterBlock() throws -> Node {
        advance()
        var filters = [try parseFilterCall()]
        while skipOp("|") { filters.append(try parseFilterCall()) }
        let body = try parseStatements(until: ["endfilter"], drop: true, innermost: "filter")
        return .filterBlock(filters: filters, body: body)
    }

    mutating func parseWith() throws -> Node {
        advance()
        var assignments: [(AssignTarget, Expr)] = []
        while true {
            if case .blockEnd = current.kind { break }
            if !assignments.isEmpty { try expectOp(",") }
            let target = try parseAssignTarget()
            try expectOp("=")
            assignments.append((target, try parseExpression()))
        }
        let body = try parseStatements(until: ["endwith"], drop: true, innermost: "with")
        return .with(assignments: assignments, body: body)
    }

    mutating func parseAssignTarget(withNamespace: Bool = false, extraEnd: Set<String> = []) throws -> AssignTarget {
        if withNamespace, case .name(let object) = current.kind, isOp(".", peek()) {
            advance()
            advance()
            return .attribute(object: object, attribute: try expectName())
        }
        var items: [AssignTarget] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(try parseSimpleTarget())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple, let only = items.first { return only }
        if items.isEmpty { throw error("expected an assignment target") }
        return .tuple(items)
    }

    mutating func parseSimpleTarget() throws -> AssignTarget {
        if skipOp("(") {
            let inner = try parseAssignTarget()
            try expectOp(")")
            return inner
        }
        guard case .name(let n) = current.kind,
              !["true", "false", "True", "False", "none", "None"].contains(n) else {
            throw error("can't assign to '\(describe(current))'")
        }
        advance()
        return .name(n)
    }
}
