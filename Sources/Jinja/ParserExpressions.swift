/// Expression grammar, ported from jinja2's `Parser.parse_*` methods. Precedence, lowest first:
/// `x if c else y`, `or`, `and`, `not`, comparisons/`in`, `+ -`, `~`, `* / // %`, `**`,
/// unary `- +`, then postfix (`.a`, `[i]`, `(...)`) and filters/tests (`|f`, `is t`).
extension Parser {

    func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd: return true
        case .op(")"): return true
        case .name(let n): return extraEnd.contains(n)
        default: return false
        }
    }

    mutating func parseTuple(withCondExpr: Bool = true, extraEnd: Set<String> = [],
                                     explicitParentheses: Bool = false) throws -> Expr {
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(try parseExpression(withCondExpr: withCondExpr))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let only = items.first { return only }
            if !explicitParentheses {
                throw error("Expected an expression, got '\(describe(current))'")
            }
        }
        return .tuple(items)
    }

    mutating func parseExpression(withCondExpr: Bool = true) throws -> Expr {
        try nest()
        defer { depth -= 1 }
        return withCondExpr ? try parseCondExpr() : try parseOr()
    }

    mutating func parseCondExpr() throws -> Expr {
        var links = 0
        defer { depth -= links }
        var expr = try parseOr()
        while skipName("if") {
            try link(&links)
            let condition = try parseOr()
            let otherwise: Expr? = skipName("else") ? try parseCondExpr() : nil
            expr = .conditional(condition: condition, then: expr, otherwise: otherwise)
        }
        return expr
    }

    mutating func parseOr() throws -> Expr {
        var links = 0
        defer { depth -= links }
        var left = try parseAnd()
        while skipName("or") {
            try link(&links)
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> Expr {
        var links = 0
        defer { depth -= links }
        var left = try parseNot()
        while skipName("and") {
            try link(&links)
            left = .and(left, try parseNot())
        }
        return left
    }

    mutating func parseNot() throws -> Expr {
        if skipName("not") {
            try nest()
            defer { depth -= 1 }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws -> Expr {
        let left = try parseMath1()
        var operations: [(ComparisonOperator, Expr)] = []
        while true {
            if case .op(let o) = current.kind, let op = ComparisonOperator(rawValue: o), op != .contains {
                advance()
                operations.append((op, try parseMath1()))
            } else if skipName("in") {
                operations.append((.contains, try parseMath1()))
            } else if isName("not") && isName("in", peek()) {
                advance()
                advance()
                operations.append((.notContains, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .compare(left, operations)
    }

    mutating func parseMath1() throws -> Expr {
        var links = 0
        defer { depth -= links }
        var left = try parseConcat()
        while true {
            if isOp("+") || isOp("-") { try link(&links) }
            if skipOp("+") {
                left = .binary(.add, left, try parseConcat())
            } else if skipOp("-") {
                left = .binary(.subtract, left, try parseConcat())
            } else {
                return left
            }
        }
    }

    mutating func parseConcat() throws -> Expr {
        var items = [try parseMath2()]
        while skipOp("~") { items.append(try parseMath2()) }
        return items.count == 1 ? items[0] : .concat(items)
    }

    mutating func parseMath2() throws -> Expr {
        var links = 0
        defer { depth -= links }
        var left = try parsePow()
        while case .op(let o) = current.kind, let op = BinaryOperator(rawValue: o),
              [.multiply, .divide, .floorDivide, .modulo].contains(op) {
            try link(&links)
            advance()
            left = .binary(op, left, try parsePow())
        }
        return left
    }

    mutating func parsePow() throws -> Expr {
        var links = 0
        defer { depth -= links }
        var left = try parseUnary()
        while skipOp("**") {
            try link(&links)
            left = .binary(.power, left, try parseUnary())
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try nest()
        defer { depth -= 1 }
        var node: Expr
        if skipOp("-") {
            node = .negate(try parseUnary(withFilter: false))
        } else if skipOp("+") {
            node = .plus(try parseUnary(withFilter: false))
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpr(node) }
        return node
    }

    mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .name(let n):
            advance()
            switch n {
            case "true", "True": return .constant(.bool(true))
            case "false", "False": return .constant(.bool(false))
            case "none", "None": return .constant(.none)
            default: return .name(n)
            }
        case .string(let s):
            advance()
            var value = s
            while case .string(let more) = current.kind {
                value += more
                advance()
            }
            return .constant(.string(value))
        case .integer(let i):
            advance()
            return .constant(.int(i))
        case .float(let d):
            advance()
            return .constant(.double(d))
        case .op("("):
            advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expectOp(")")
            return inner
        case .op("["):
            return try parseList()
        case .op("{"):
            return try parseDict()
        default:
            throw error("unexpected '\(describe(token))'")
        }
    }

    mutating func parseList() throws -> Expr {
        try expectOp("[")
        var items: [Expr] = []
        while !isOp("]") {
            if !items.isEmpty { try expectOp(",") }
            if isOp("]") { break }
            items.append(try parseExpression())
        }
        try expectOp("]")
        return .list(items)
    }

    mutating func parseDict() throws -> Expr {
        try expectOp("{")
        var items: [(key: Expr, value: Expr)] = []
        while !isOp("}") {
            if !items.isEmpty { try expectOp(",") }
            if isOp("}") { break }
            let key = try parseExpression()
            try expectOp(":")
            items.append((key, try parseExpression()))
        }
        try expectOp("}")
        return .dict(items)
    }

    mutating func parsePostfix(_ node: Expr) throws -> Expr {
        var links = 0
        defer { depth -= links }
        var node = node
        while true {
            if isOp(".") || isOp("[") || isOp("(") { try link(&links) }
            if isOp(".") || isOp("[") {
                node = try parseSubscript(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    mutating func parseFilterExpr(_ node: Expr) throws -> Expr {
        var links = 0
        defer { depth -= links }
        var node = node
        while true {
            if isOp("|") || isName("is") || isOp("(") { try link(&links) }
            if skipOp("|") {
                node = .filter(node, try parseFilterCall())
            } else if isName("is") {
                node = try parseTest(node)
            } else if isOp("(") {
                node = .call(node, try parseCallArguments())
            } else {
                return node
            }
        }
    }

    mutating func parseSubscript(_ node: Expr) throws -> Expr {
        if skipOp(".") {
            let token = current
            switch token.kind {
            case .name(let n):
                advance()
                return .attribute(node, n)
            case .integer(let i):
                advance()
                return .item(node, .constant(.int(i)))
            default:
                throw error("expected name or number")
            }
        }
        try expectOp("[")
        var args: [Expr] = []
        while !isOp("]") {
            if !args.isEmpty { try expectOp(",") }
            args.append(try parseSubscribed(node))
        }
        try expectOp("]")
        if args.count == 1 {
            // A slice is returned whole; a plain index becomes an item lookup.
            if case .slice = args[0] { return args[0] }
            return .item(node, args[0])
        }
        return .item(node, .tuple(args))
    }

    mutating func parseSubscribed(_ target: Expr) throws -> Expr {
        var start: Expr?
        if isOp(":") {
            advance()
        } else {
            let expr = try parseExpression()
            guard isOp(":") else { return expr }
            advance()
            start = expr
        }
        var stop: Expr?
        if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
        var step: Expr?
        if skipOp(":") {
            if !isOp("]") && !isOp(",") { step = try parseExpression() }
        }
        return .slice(target, start: start, stop: stop, step: step)
    }

    mutating func parseCallArguments() throws -> Arguments {
        let open = current
        try expectOp("(")
        var args = Arguments()
        var requireComma = false
        while !isOp(")") {
            if requireComma {
                try expectOp(",")
                if isOp(")") { break }
            }
            if isOp("*") || isOp("**") {
                throw ChatTemplateError.unsupported("*args/**kwargs in calls (line \(current.line))")
            }
            if case .name(let key) = current.kind, isOp("=", peek()) {
                advance()
                advance()
                args.keyword.append((key, try parseExpression()))
            } else {
                guard args.keyword.isEmpty else {
                    throw error("invalid syntax for function call expression", at: open)
                }
                args.positional.append(try parseExpression())
            }
            requireComma = true
        }
        try expectOp(")")
        return args
    }

    mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while skipOp(".") { name += "." + (try expectName()) }
        return name
    }

    mutating func parseFilterCall() throws -> FilterCall {
        let name = try parseDottedName()
        let arguments = isOp("(") ? try parseCallArguments() : Arguments()
        return FilterCall(name: name, arguments: arguments)
    }

    mutating func parseTest(_ node: Expr) throws -> Expr {
        advance()  // `is`
        let negated = skipName("not")
        let name = try parseDottedName()
        var arguments = Arguments()
        if isOp("(") {
            arguments = try parseCallArguments()
        } else {
            // jinja2 accepts one bare argument: `x is divisibleby 3`, `x is sameas none`.
            var takesBareArgument = false
            switch current.kind {
            case .name(let n): takesBareArgument = !["else", "or", "and"].contains(n)
            case .string, .integer, .float, .op("("), .op("["), .op("{"): takesBareArgument = true
            default: break
            }
            if takesBareArgument {
                if isName("is") { throw error("You cannot chain multiple tests with is") }
                arguments.positional = [try parsePostfix(try parsePrimary())]
            }
        }
        let test = Expr.test(node, name: name, arguments: arguments)
        return negated ? .not(test) : test
    }
}
