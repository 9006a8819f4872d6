/// Variable scope. jinja2 gives every loop iteration, macro call and `with`/`set`-block
/// body its own scope, while `if` does not; assignments never leak outward, which is
/// why templates use `namespace()` to carry state out of loops.
final class Scope {
    private var variables: [String: Value] = [:]
    let parent: Scope?

    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let s = scope {
            if let v = s.variables[name] { return v }
            scope = s.parent
        }
        return nil
    }

    func set(_ name: String, _ value: Value) { variables[name] = value }
}

/// Safety limits: a chat template comes from a model repository, i.e. untrusted input.
struct RenderLimits: Sendable {
    var maxLoopIterations = 1_000_000
    var maxCallDepth = 64
    var maxOutputBytes = 64 << 20
    /// jinja2's sandbox refuses `range()` results longer than this.
    var maxRange = 100_000
    /// Interpreter recursion (statements + expressions, across macro calls), bounding stack use.
    var maxNesting = 1_000
}

/// Walks the AST for one render. Not shared between renders.
final class Interpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    let limits: RenderLimits
    private var iterations = 0
    private var callDepth = 0
    private var nesting = 0
    /// Macros capture their defining scope, which in turn stores them: a reference cycle
    /// broken by ``finish()`` once rendering is over.
    private var macros: [Function] = []

    init(limits: RenderLimits) { self.limits = limits }

    func render(_ nodes: [Node], context: [String: JinjaValue]) throws -> String {
        defer { finish() }
        let globals = Scope(parent: nil)
        installGlobals(into: globals)
        let root = Scope(parent: globals)
        for (name, value) in context { root.set(name, Value(value)) }
        var out = ""
        _ = try execute(nodes, root, &out)
        return out
    }

    private func finish() {
        for macro in macros { macro.release() }
        macros.removeAll()
    }

    // MARK: - Statements

    func execute(_ nodes: [Node], _ scope: Scope, _ out: inout String) throws -> Flow {
        for node in nodes {
            let flow = try execute(node, scope, &out)
            if flow != .normal { return flow }
        }
        return .normal
    }

    private func write(_ text: String, _ out: inout String) throws {
        out += text
        if out.utf8.count > limits.maxOutputBytes {
            throw ChatTemplateError.limitExceeded("output larger than \(limits.maxOutputBytes) bytes")
        }
    }

    private func enter() throws {
        nesting += 1
        if nesting > limits.maxNesting {
            throw ChatTemplateError.limitExceeded("template recursion deeper than \(limits.maxNesting) levels")
        }
    }

    private func execute(_ node: Node, _ scope: Scope, _ out: inout String) throws -> Flow {
        try enter()
        defer { nesting -= 1 }
        switch node {
        case .text(let text):
            try write(text, &out)
        case .output(let expr):
            try write(PythonFormat.str(try evaluate(expr, scope)), &out)
        case .ifChain(let branches, let otherwise):
            for branch in branches where try evaluate(branch.condition, scope).isTruthy {
                return try execute(branch.body, scope, &out)
            }
            return try execute(otherwise, scope, &out)
        case .forLoop(let loop):
            try executeFor(loop, scope, &out)
        case .set(let target, let value):
            try assign(target, try evaluate(value, scope), in: scope)
        case .setBlock(let target, let filters, let body):
            var value = Value.string(try capture(body, Scope(parent: scope)))
            for filter in filters { value = try applyFilter(filter, to: value, scope) }
            try assign(target, value, in: scope)
        case .macro(let definition):
            scope.set(definition.name, .function(makeMacro(definition, closure: scope)))
        case .callBlock(let call, let callerDefinition):
            guard case .call(let callee, let arguments) = call else { return .normal }
            let caller = makeMacro(callerDefinition, closure: scope)
            var args = try evaluateArguments(arguments, scope)
            args.keyword.append(("caller", .function(caller)))
            try write(PythonFormat.str(try callValue(try evaluate(callee, scope), args)), &out)
        case .filterBlock(let filters, let body):
            var value = Value.string(try capture(body, Scope(parent: scope)))
            for filter in filters { value = try applyFilter(filter, to: value, scope) }
            try write(PythonFormat.str(value), &out)
        case .with(let assignments, let body):
            let values = try assignments.map { try evaluate($0.1, scope) }
            let inner = Scope(parent: scope)
            for (assignment, value) in zip(assignments, values) { try assign(assignment.0, value, in: inner) }
            return try execute(body, inner, &out)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func capture(_ body: [Node], _ scope: Scope) throws -> String {
        var text = ""
        _ = try execute(body, scope, &text)
        return text
    }

    private func countIteration() throws {
        iterations += 1
        if iterations > limits.maxLoopIterations {
            throw ChatTemplateError.limitExceeded("more than \(limits.maxLoopIterations) loop iterations")
        }
    }

    private func executeFor(_ loop: ForLoop, _ scope: Scope, _ out: inout String) throws {
        var items = try iterate(try evaluate(loop.iterable, scope))
        if let condition = loop.condition {
            items = try items.filter { item in
                try countIteration()
                let probe = Scope(parent: scope)
                try assign(loop.target, item, in: probe)
                return try evaluate(condition, probe).isTruthy
            }
        }
        if items.isEmpty {
            _ = try execute(loop.otherwise, Scope(parent: scope), &out)
            return
        }
        let length = items.count
        for (index, item) in items.enumerated() {
            try countIteration()
            let iteration = Scope(parent: scope)
            try assign(loop.target, item, in: iteration)
            iteration.set("loop", loopObject(index: index, length: length, items: items))
            if try execute(loop.body, iteration, &out) == .breakLoop { break }
        }
    }

    private func loopObject(index: Int, length: Int, items: [Value]) -> Value {
        var loop = OrderedMap<Value>()
        loop["index"] = .int(index + 1)
        loop["index0"] = .int(index)
        loop["revindex"] = .int(length - index)
        loop["revindex0"] = .int(length - index - 1)
        loop["first"] = .bool(index == 0)
        loop["last"] = .bool(index == length - 1)
        loop["length"] = .int(length)
        loop["depth"] = .int(1)
        loop["depth0"] = .int(0)
        loop["previtem"] = index > 0 ? items[index - 1] : .undefined("there is no previous item")
        loop["nextitem"] = index + 1 < length ? items[index + 1] : .undefined("there is no next item")
        loop["cycle"] = .function(Function("cycle") { args in
            guard !args.positional.isEmpty else { throw ChatTemplateError.type("no items for cycling given") }
            return args.positional[index % args.positional.count]
        })
        return .object(loop)
    }

    func assign(_ target: AssignTarget, _ value: Value, in scope: Scope) throws {
        switch target {
        case .name(let name):
            scope.set(name, value)
        case .tuple(let targets):
            let items = try iterate(value)
            guard items.count == targets.count else {
                throw ChatTemplateError.type(items.count < targets.count
                    ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
                    : "too many values to unpack (expected \(targets.count))")
            }
            for (t, v) in zip(targets, items) { try assign(t, v, in: scope) }
        case .attribute(let object, let attribute):
            guard case .namespace(let ns) = scope.lookup(object) ?? .undefinedName(object) else {
                throw ChatTemplateError.type("cannot assign attribute on non-namespace object")
            }
            ns.attributes[attribute] = value
        }
    }

    // MARK: - Macros

    private func makeMacro(_ definition: MacroDefinition, closure: Scope) -> Function {
        let function = Function(definition.name) { [unowned self] args in
            try self.invoke(definition, closure: closure, args)
        }
        macros.append(function)
        return function
    }

    private func invoke(_ definition: MacroDefinition, closure: Scope, _ args: CallArguments) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        guard callDepth <= limits.maxCallDepth else {
            throw ChatTemplateError.limitExceeded("macro calls nested deeper than \(limits.maxCallDepth)")
        }
        let parameters = definition.parameters
        guard args.positional.count <= parameters.count else {
            throw ChatTemplateError.type("macro '\(definition.name)' takes not more than \(parameters.count) argument(s)")
        }
        let scope = Scope(parent: closure)
        var provided = Set<String>()
        for (name, value) in zip(parameters, args.positional) {
            scope.set(name, value)
            provided.insert(name)
        }
        for (name, value) in args.keyword {
            if name == "caller" {
                scope.set("caller", value)
                continue
            }
            guard parameters.contains(name) else {
                throw ChatTemplateError.type("macro '\(definition.name)' takes no keyword argument '\(name)'")
            }
            scope.set(name, value)
            provided.insert(name)
        }
        let firstDefault = parameters.count - definition.defaults.count
        for (i, name) in parameters.enumerated() where !provided.contains(name) {
            // Defaults are evaluated per call, after earlier parameters are bound.
            scope.set(name, i >= firstDefault
                ? try evaluate(definition.defaults[i - firstDefault], scope)
                : .undefined("parameter '\(name)' was not provided"))
        }
        return .string(try capture(definition.body, scope))
    }

    // MARK: - Expressions

    func evaluate(_ expr: Expr, _ scope: Scope) throws -> Value {
        try enter()
        defer { nesting -= 1 }
        return try evaluateNode(expr, scope)
    }

    private func evaluateNode(_ expr: Expr, _ scope: Scope) throws -> Value {
        switch expr {
        case .constant(let value):
            return Value(value)
        case .name(let name):
            return scope.lookup(name) ?? .undefinedName(name)
        case .list(let items), .tuple(let items):
            return .array(try items.map { try evaluate($0, scope) })
        case .dict(let pairs):
            var map = OrderedMap<Value>()
            for (keyExpr, valueExpr) in pairs {
                let key = try evaluate(keyExpr, scope)
                guard let k = DictKey.encode(key) else {
                    throw ChatTemplateError.type("unhashable type: '\(key.typeName)'")
                }
                map[k] = try evaluate(valueExpr, scope)
            }
            return .object(map)
        case .attribute(let object, let name):
            return try getAttribute(try evaluate(object, scope), name)
        case .item(let object, let key):
            return try getItem(try evaluate(object, scope), try evaluate(key, scope))
        case .slice(let object, let start, let stop, let step):
            return try slice(try evaluate(object, scope),
                             start: try start.map { try evaluate($0, scope) },
                             stop: try stop.map { try evaluate($0, scope) },
                             step: try step.map { try evaluate($0, scope) })
        case .call(let callee, let arguments):
            let args = try evaluateArguments(arguments, scope)
            if case .attribute(let objectExpr, let name) = callee {
                let object = try evaluate(objectExpr, scope)
                if let result = try callMethod(object, name, args) { return result }
                return try callValue(try getAttribute(object, name), args)
            }
            return try callValue(try evaluate(callee, scope), args)
        case .filter(let operand, let filter):
            return try applyFilter(filter, to: try evaluate(operand, scope), scope)
        case .test(let operand, let name, let arguments):
            return .bool(try runTest(name, try evaluate(operand, scope), try evaluateArguments(arguments, scope)))
        case .negate(let operand):
            return try Operators.negate(try evaluate(operand, scope))
        case .plus(let operand):
            return try Operators.plus(try evaluate(operand, scope))
        case .not(let operand):
            return .bool(!(try evaluate(operand, scope)).isTruthy)
        case .binary(let op, let left, let right):
            return try Operators.binary(op, try evaluate(left, scope), try evaluate(right, scope), limits: limits)
        case .concat(let items):
            var text = ""
            for item in items { text += PythonFormat.str(try evaluate(item, scope)) }
            return .string(text)
        case .and(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? try evaluate(right, scope) : l
        case .or(let left, let right):
            let l = try evaluate(left, scope)
            return l.isTruthy ? l : try evaluate(right, scope)
        case .compare(let first, let operations):
            var left = try evaluate(first, scope)
            for (op, rightExpr) in operations {
                let right = try evaluate(rightExpr, scope)
                if !(try Operators.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let condition, let then, let otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            if let otherwise { return try evaluate(otherwise, scope) }
            return .undefined("the inline if-expression evaluated to false and no else section was defined")
        }
    }

    func evaluateArguments(_ arguments: Arguments, _ scope: Scope) throws -> CallArguments {
        CallArguments(positional: try arguments.positional.map { try evaluate($0, scope) },
                      keyword: try arguments.keyword.map { ($0.name, try evaluate($0.value, scope)) })
    }

    func callValue(_ callee: Value, _ args: CallArguments) throws -> Value {
        switch callee {
        case .function(let f): return try f.call(args)
        case .undefined(let message): throw ChatTemplateError.undefined(message)
        default: throw ChatTemplateError.type("'\(callee.typeName)' object is not callable")
        }
    }

    /// Python `iter()` as jinja2 uses it: dicts yield keys, strings characters, undefined nothing.
    func iterate(_ value: Value) throws -> [Value] {
        switch value.plain {
        case .array(let items): return items
        case .object(let map): return map.keys.map(DictKey.decode)
        case .string(let s): return s.unicodeScalars.map { .string(String(Character($0))) }
        case .undefined: return []
        case .iterator(let it): return it.drain()
        default: throw ChatTemplateError.type("'\(value.typeName)' object is not iterable")
        }
    }

    // MARK: - Attribute and item access

    private static func describeOwner(_ value: Value) -> String {
        if case .none = value { return "None" }
        return "\(value.typeName) object"
    }

    /// `obj.name`: Python attributes (methods) first, then keys, as jinja2's sandbox does.
    func getAttribute(_ object: Value, _ name: String) throws -> Value {
        let object = object.plain
        switch object {
        case .undefined(let message):
            throw ChatTemplateError.undefined(message)
        case .object(let map):
            if Methods.dictMethods.contains(name) { return boundMethod(object, name) }
            if let v = map[name] { return v }
        case .namespace(let ns):
            if let v = ns.attributes[name] { return v }
        case .string:
            if Methods.stringMethods.contains(name) { return boundMethod(object, name) }
        case .array:
            if Methods.listMethods.contains(name) { return boundMethod(object, name) }
        default:
            break
        }
        return .undefined("'\(Self.describeOwner(object))' has no attribute '\(name)'")
    }

    private func boundMethod(_ object: Value, _ name: String) -> Value {
        .function(Function(name) { [unowned self] args in
            guard let result = try self.callMethod(object, name, args) else {
                throw ChatTemplateError.unsupported("method '\(name)' of \(object.typeName)")
            }
            return result
        })
    }

    /// `obj[key]`: item lookup first, falling back to attributes for string keys.
    func getItem(_ object: Value, _ key: Value) throws -> Value {
        let (object, key) = (object.plain, key.plain)
        switch (object, key) {
        case (.undefined(let message), _):
            throw ChatTemplateError.undefined(message)
        case (.object(let map), _):
            if let k = DictKey.encode(key), let v = map[k] { return v }
        case (.array(let items), _):
            if case .int(var i)? = key.number {
                if i < 0 { i += items.count }
                if i >= 0 && i < items.count { return items[i] }
            }
        case (.string(let s), _):
            if case .int(var i)? = key.number {
                let scalars = s.scalars
                if i < 0 { i += scalars.count }
                if i >= 0 && i < scalars.count { return .string(String(Character(scalars[i]))) }
            }
        default:
            break
        }
        if case .string(let name) = key {
            return try getAttribute(object, name)
        }
        return .undefined("\(Self.describeOwner(object)) has no element \(PythonFormat.repr(key))")
    }

    private func sliceIndex(_ value: Value?) throws -> Int? {
        guard let value else { return nil }
        switch value {
        case .none: return nil
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: throw ChatTemplateError.type("slice indices must be integers or None")
        }
    }

    func slice(_ object: Value, start: Value?, stop: Value?, step: Value?) throws -> Value {
        let (a, b, c) = (try sliceIndex(start), try sliceIndex(stop), try sliceIndex(step))
        switch object.plain {
        case .array(let items): return .array(try pySlice(items, start: a, stop: b, step: c))
        case .string(let s): return .string(String(scalars: try pySlice(s.scalars, start: a, stop: b, step: c)))
        case .undefined(let message): throw ChatTemplateError.undefined(message)
        default: throw ChatTemplateError.type("'\(object.typeName)' object is not subscriptable")
        }
    }
}

extension Function {
    func call(_ args: CallArguments) throws -> Value {
        guard let body else { throw ChatTemplateError.type("macro '\(name)' called after rendering finished") }
        return try body(args)
    }
}
