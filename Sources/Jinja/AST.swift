/// Parsed template. Built once by ``Parser`` and walked by ``Interpreter`` on every render.

/// A statement-level node.
indirect enum Node: Sendable {
    case text(String)
    case output(Expr)
    case ifChain(branches: [(condition: Expr, body: [Node])], otherwise: [Node])
    case forLoop(ForLoop)
    case set(target: AssignTarget, value: Expr)
    /// `{% set x %}...{% endset %}`, optionally `{% set x | filter %}`.
    case setBlock(target: AssignTarget, filters: [FilterCall], body: [Node])
    case macro(MacroDefinition)
    /// `{% call(args) macro(...) %}body{% endcall %}`: `caller` is the body as a macro.
    case callBlock(call: Expr, caller: MacroDefinition)
    case filterBlock(filters: [FilterCall], body: [Node])
    case with(assignments: [(AssignTarget, Expr)], body: [Node])
    case breakLoop
    case continueLoop
}

struct ForLoop: Sendable {
    var target: AssignTarget
    var iterable: Expr
    var condition: Expr?
    var body: [Node]
    var otherwise: [Node]
}

struct MacroDefinition: Sendable {
    var name: String
    var parameters: [String]
    /// Defaults line up with the last `defaults.count` parameters, as in Python.
    var defaults: [Expr]
    var body: [Node]
}

struct FilterCall: Sendable {
    var name: String
    var arguments: Arguments
}

indirect enum AssignTarget: Sendable {
    case name(String)
    case tuple([AssignTarget])
    /// `ns.attr` — only valid on `namespace()` objects.
    case attribute(object: String, attribute: String)
}

struct Arguments: Sendable {
    var positional: [Expr] = []
    var keyword: [(name: String, value: Expr)] = []
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//"
    case modulo = "%", power = "**"
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}

indirect enum Expr: Sendable {
    case constant(JinjaValue)
    case name(String)
    case list([Expr])
    case tuple([Expr])
    case dict([(key: Expr, value: Expr)])
    case attribute(Expr, String)
    case item(Expr, Expr)
    case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
    case call(Expr, Arguments)
    case filter(Expr, FilterCall)
    case test(Expr, name: String, arguments: Arguments)
    case negate(Expr)
    case plus(Expr)
    case not(Expr)
    case binary(BinaryOperator, Expr, Expr)
    case concat([Expr])
    case and(Expr, Expr)
    case or(Expr, Expr)
    case compare(Expr, [(ComparisonOperator, Expr)])
    case conditional(condition: Expr, then: Expr, otherwise: Expr?)
}
