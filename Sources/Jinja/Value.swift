/// Runtime value: JSON-like data plus the Python/jinja2 kinds templates can create
/// (undefined, namespaces, callables). Internal so the public surface stays ``JinjaValue``.
enum Value {
    /// jinja2's default `Undefined`: falsy, renders as "", raises on most other use.
    /// The payload is the message jinja2 would raise with.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// markupsafe's `Markup` (from `safe`/`escape`): a string that HTML-escapes whatever plain
    /// string is `+`-ed to it. Everywhere else it behaves as the plain string, see ``plain``.
    case markup(String)
    /// Lists and tuples alike (the distinction only shows in `repr`).
    case array([Value])
    case object(OrderedMap<Value>)
    case namespace(Namespace)
    case function(Function)
    /// A one-shot Python iterator (what `map`, `select`, `items`, `reverse`... return in jinja2):
    /// always truthy, no `len()`, not JSON-serialisable, empty once consumed.
    case iterator(PyIterator)

    init(_ value: JinjaValue) {
        switch value {
        case .none: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .array(a.map(Value.init))
        case .object(let o): self = .object(o.mapValues(Value.init))
        }
    }

    /// Markup demoted to a plain string; every other value unchanged.
    var plain: Value {
        if case .markup(let s) = self { return .string(s) }
        return self
    }

    static func undefinedName(_ name: String) -> Value { .undefined("'\(name)' is undefined") }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python truthiness.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s), .markup(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        case .namespace, .function, .iterator: true
        }
    }

    /// Python's type name, for error messages that match jinja2's.
    var typeName: String {
        switch self {
        case .undefined: "Undefined"
        case .none: "NoneType"
        case .bool: "bool"
        case .int: "int"
        case .double: "float"
        case .string: "str"
        case .markup: "Markup"
        case .array: "list"
        case .object: "dict"
        case .namespace: "Namespace"
        case .function: "function"
        case .iterator(let it): it.kind
        }
    }

    /// Numeric view used for arithmetic and comparison; bools count as ints like in Python.
    var number: Number? {
        switch self {
        case .bool(let b): .int(b ? 1 : 0)
        case .int(let i): .int(i)
        case .double(let d): .double(d)
        default: nil
        }
    }
}

enum Number {
    case int(Int)
    case double(Double)

    var asDouble: Double {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        }
    }
}

/// `namespace(...)`: the one mutable object jinja2 lets templates write through (`set ns.x = ...`).
final class Namespace {
    var attributes: OrderedMap<Value>
    init(_ attributes: OrderedMap<Value>) { self.attributes = attributes }
}

final class PyIterator {
    /// Python's type name, e.g. `generator`, `list_reverseiterator`.
    let kind: String
    private var remaining: ArraySlice<Value>

    init(_ kind: String, _ items: [Value]) {
        self.kind = kind
        self.remaining = items[...]
    }

    func drain() -> [Value] {
        defer { remaining = [] }
        return Array(remaining)
    }

    func next() -> Value? { remaining.popFirst() }
}

/// Call arguments after evaluation.
struct CallArguments {
    var positional: [Value] = []
    var keyword: [(name: String, value: Value)] = []

    /// Python-style binding of positional-or-keyword parameters; missing ones get `defaults`.
    func bind(_ function: String, _ names: [String], defaults: [String: Value] = [:]) throws -> [Value] {
        if positional.count > names.count {
            throw ChatTemplateError.type("\(function)() takes at most \(names.count) arguments (\(positional.count) given)")
        }
        var result: [Value?] = positional.map { $0 }
        result += Array(repeating: nil, count: names.count - positional.count)
        for (name, value) in keyword {
            guard let i = names.firstIndex(of: name) else {
                throw ChatTemplateError.type("\(function)() got an unexpected keyword argument '\(name)'")
            }
            if result[i] != nil {
                throw ChatTemplateError.type("\(function)() got multiple values for argument '\(name)'")
            }
            result[i] = value
        }
        return try names.indices.map { i in
            if let v = result[i] { return v }
            if let d = defaults[names[i]] { return d }
            throw ChatTemplateError.type("\(function)() missing required argument '\(names[i])'")
        }
    }
}

/// Something callable from a template: a macro, a global like `range`, or a bound method.
final class Function {
    let name: String
    private(set) var body: ((CallArguments) throws -> Value)?

    init(_ name: String, _ body: @escaping (CallArguments) throws -> Value) {
        self.name = name
        self.body = body
    }

    /// Drops the closure (and whatever scopes it captured) to break reference cycles.
    func release() { body = nil }
}

/// Python dicts accept int, float, bool and None keys (e.g. `{0: 0, 512: 128}` lookup tables).
/// ``OrderedMap`` keys are strings, so such keys are stored under a private-use prefix and
/// decoded wherever keys become visible again. Python's `1 == 1.0 == True` key identity holds.
enum DictKey {
    private static let marker = "\u{F8FF}"

    static func encode(_ key: Value) -> String? {
        switch key {
        case .string(let s): return s
        case .none: return marker + "n"
        case .bool(let b): return marker + "i" + (b ? "1" : "0")
        case .int(let i): return marker + "i" + String(i)
        case .double(let d):
            if d.isFinite, d == d.rounded(), let i = Int(exactly: d) { return marker + "i" + String(i) }
            return marker + "d" + String(d.bitPattern)
        default: return nil
        }
    }

    static func decode(_ key: String) -> Value {
        guard key.hasPrefix(marker) else { return .string(key) }
        let body = key.dropFirst(marker.count)
        switch body.first {
        case "n": return .none
        case "i": return Int(body.dropFirst()).map(Value.int) ?? .string(key)
        case "d": return UInt64(body.dropFirst()).map { .double(Double(bitPattern: $0)) } ?? .string(key)
        default: return .string(key)
        }
    }

    /// How `json.dumps` spells a non-string key.
    static func jsonKey(_ key: String) -> String {
        switch decode(key) {
        case .string(let s): s
        case .none: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .double(let d): PythonFormat.float(d)
        default: key
        }
    }
}
