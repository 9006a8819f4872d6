/// jinja2's `is` tests. Type tests follow Python's ABCs: a dict is a `sequence`,
/// a string is `iterable`, `true` is a `number` but not an `integer`.
extension Interpreter {
    func runTest(_ name: String, _ value: Value, _ args: CallArguments) throws -> Bool {
        let value = value.plain
        func argument() throws -> Value { try args.bind(name, ["other"])[0] }
        func noArguments() throws { _ = try args.bind(name, []) }
        switch name {
        case "defined": try noArguments(); return !value.isUndefined
        case "undefined": try noArguments(); return value.isUndefined
        case "none": try noArguments(); return value.isNone
        case "boolean":
            try noArguments()
            if case .bool = value { return true }
            return false
        case "true", "false":
            try noArguments()
            if case .bool(let b) = value { return b == (name == "true") }
            return false
        case "integer":
            try noArguments()
            if case .int = value { return true }
            return false
        case "float":
            try noArguments()
            if case .double = value { return true }
            return false
        case "number": try noArguments(); return value.number != nil
        case "string":
            try noArguments()
            if case .string = value { return true }
            return false
        case "mapping":
            try noArguments()
            if case .object = value { return true }
            return false
        case "iterable":
            try noArguments()
            switch value {
            case .string, .array, .object, .undefined, .iterator: return true
            default: return false
            }
        case "sequence":
            try noArguments()
            switch value {
            case .string, .array, .object: return true
            default: return false
            }
        case "callable":
            try noArguments()
            switch value {
            case .function, .undefined: return true
            default: return false
            }
        case "escaped": try noArguments(); return false
        case "even", "odd":
            try noArguments()
            let r = try Operators.binary(.modulo, value, .int(2), limits: limits)
            return Operators.equals(r, .int(0)) == (name == "even")
        case "divisibleby":
            let r = try Operators.binary(.modulo, value, try args.bind(name, ["num"])[0], limits: limits)
            return Operators.equals(r, .int(0))
        case "eq", "equalto", "==": return Operators.equals(value, try argument())
        case "ne", "!=": return !Operators.equals(value, try argument())
        case "lt", "lessthan", "<": return try Operators.compare(.less, value, try argument())
        case "le", "<=": return try Operators.compare(.lessOrEqual, value, try argument())
        case "gt", "greaterthan", ">": return try Operators.compare(.greater, value, try argument())
        case "ge", ">=": return try Operators.compare(.greaterOrEqual, value, try argument())
        case "in": return try Operators.contains(try args.bind(name, ["seq"])[0], value)
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.int(let a), .int(let b)): return a == b
            case (.namespace(let a), .namespace(let b)): return a === b
            case (.function(let a), .function(let b)): return a === b
            default: return false
            }
        case "lower", "upper":
            try noArguments()
            let cased = PythonFormat.str(value).unicodeScalars.filter { $0.properties.isCased }
            return !cased.isEmpty && cased.allSatisfy { name == "lower" ? $0.properties.isLowercase : $0.properties.isUppercase }
        case "filter", "test":
            // The value is the name being asked about: `"upper" is filter`.
            try noArguments()
            guard case .string(let candidate) = value else { return false }
            return (name == "filter" ? knownFilters : knownTests).contains(candidate)
        default:
            throw ChatTemplateError.unsupported("test '\(name)'")
        }
    }
}

let knownFilters: Set<String> = [
    "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
    "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower",
    "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
    "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount",
]

let knownTests: Set<String> = [
    "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false",
    "filter", "float", "ge", ">=", "gt", "greaterthan", ">", "in", "integer", "iterable", "le", "<=",
    "lower", "lt", "lessthan", "<", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence",
    "string", "test", "true", "undefined", "upper",
]
