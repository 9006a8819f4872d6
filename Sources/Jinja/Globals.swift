/// Global functions: jinja2's defaults (`range`, `dict`, `namespace`) plus the ones
/// Hugging Face adds (`raise_exception`, `strftime_now`).
extension Interpreter {
    func installGlobals(into scope: Scope) {
        let maxRange = limits.maxRange
        scope.set("range", .function(Function("range") { args in
            guard args.keyword.isEmpty else { throw ChatTemplateError.type("range() takes no keyword arguments") }
            let ints = try args.positional.map { try Methods.int($0, "range() argument") }
            let (start, stop, step): (Int, Int, Int)
            switch ints.count {
            case 1: (start, stop, step) = (0, ints[0], 1)
            case 2: (start, stop, step) = (ints[0], ints[1], 1)
            case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
            default: throw ChatTemplateError.type("range expected 1 to 3 arguments, got \(ints.count)")
            }
            guard step != 0 else { throw ChatTemplateError.type("range() arg 3 must not be zero") }
            // Computed in Double so extreme bounds cannot overflow; only the size matters here.
            let span = step > 0 ? Double(stop) - Double(start) : Double(start) - Double(stop)
            let estimate = span > 0 ? (span / Double(step.magnitude)).rounded(.up) : 0
            guard estimate <= Double(maxRange) else {
                throw ChatTemplateError.limitExceeded("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
            }
            let count = step > 0
                ? (stop > start ? (stop - start - 1) / step + 1 : 0)
                : (start > stop ? (start - stop - 1) / -step + 1 : 0)
            guard count <= maxRange else {
                throw ChatTemplateError.limitExceeded("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
            }
            return .array((0..<count).map { .int(start + $0 * step) })
        }))
        scope.set("namespace", .function(Function("namespace") { args in
            .namespace(Namespace(try Self.dictionary(args, "namespace")))
        }))
        scope.set("dict", .function(Function("dict") { args in
            .object(try Self.dictionary(args, "dict"))
        }))
        scope.set("raise_exception", .function(Function("raise_exception") { args in
            let message = try args.bind("raise_exception", ["message"])[0]
            throw ChatTemplateError.raised(PythonFormat.str(message))
        }))
        scope.set("strftime_now", .function(Function("strftime_now") { args in
            .string(cStrftimeNow(try Methods.string(try args.bind("strftime_now", ["format"])[0], "format")))
        }))
    }

    /// `dict(mapping_or_pairs, **kwargs)` as used by `namespace()` and `dict()`.
    private static func dictionary(_ args: CallArguments, _ name: String) throws -> OrderedMap<Value> {
        var map = OrderedMap<Value>()
        guard args.positional.count <= 1 else {
            throw ChatTemplateError.type("\(name) expected at most 1 positional argument, got \(args.positional.count)")
        }
        switch args.positional.first {
        case .object(let o)?: map = o
        case .array(let pairs)?:
            for pair in pairs {
                guard case .array(let kv) = pair, kv.count == 2, case .string(let k) = kv[0] else {
                    throw ChatTemplateError.type("\(name) sequence elements must be (str, value) pairs")
                }
                map[k] = kv[1]
            }
        case nil: break
        case let other?: throw ChatTemplateError.type("'\(other.typeName)' object is not iterable")
        }
        for (k, v) in args.keyword { map[k] = v }
        return map
    }
}
