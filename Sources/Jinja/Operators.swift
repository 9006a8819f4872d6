/// Python operator semantics: int/float promotion, bools as ints, floor division and modulo
/// rounding toward negative infinity, sequence concatenation and repetition.
enum Operators {
    static func typeError(_ op: String, _ a: Value, _ b: Value) -> ChatTemplateError {
        .type("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    private static func overflow() -> ChatTemplateError {
        .type("integer overflow (Python integers are unbounded, this interpreter uses 64 bits)")
    }

    static func negate(_ v: Value) throws -> Value {
        switch v.number {
        case .int(let i)?:
            guard i != Int.min else { throw overflow() }
            return .int(-i)
        case .double(let d)?: return .double(-d)
        case nil:
            if case .undefined(let m) = v { throw ChatTemplateError.undefined(m) }
            throw ChatTemplateError.type("bad operand type for unary -: '\(v.typeName)'")
        }
    }

    static func plus(_ v: Value) throws -> Value {
        switch v.number {
        case .int(let i)?: return .int(i)
        case .double(let d)?: return .double(d)
        case nil:
            if case .undefined(let m) = v { throw ChatTemplateError.undefined(m) }
            throw ChatTemplateError.type("bad operand type for unary +: '\(v.typeName)'")
        }
    }

    static func binary(_ op: BinaryOperator, _ a: Value, _ b: Value, limits: RenderLimits) throws -> Value {
        if case .undefined(let m) = a { throw ChatTemplateError.undefined(m) }
        if case .undefined(let m) = b { throw ChatTemplateError.undefined(m) }
        if let x = a.number, let y = b.number { return try arithmetic(op, x, y) }
        if op == .add, let joined = markupConcat(a, b) { return joined }
        let (a, b) = (a.plain, b.plain)
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)):
            return .string(x + y)
        case (.add, .array(let x), .array(let y)):
            return .array(x + y)
        case (.multiply, .string(let s), _), (.multiply, _, .string(let s)):
            guard let n = repeatCount(a, b) else { break }
            let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
            guard !overflow, bytes <= limits.maxOutputBytes else {
                throw ChatTemplateError.limitExceeded("string repetition larger than \(limits.maxOutputBytes) bytes")
            }
            return .string(String(repeating: s, count: n))
        case (.multiply, .array(let items), _), (.multiply, _, .array(let items)):
            guard let n = repeatCount(a, b) else { break }
            let (total, overflow) = items.count.multipliedReportingOverflow(by: n)
            guard !overflow, total <= limits.maxOutputBytes else {
                throw ChatTemplateError.limitExceeded("list repetition too large")
            }
            return .array(Array([[Value]](repeating: items, count: n).joined()))
        case (.modulo, .string(let format), _):
            return .string(try Methods.percentFormat(format, b))
        case (.add, .string, _):
            throw ChatTemplateError.type("can only concatenate str (not \"\(b.typeName)\") to str")
        case (.add, .array, _):
            throw ChatTemplateError.type("can only concatenate list (not \"\(b.typeName)\") to list")
        default:
            break
        }
        throw typeError(op.rawValue, a, b)
    }

    /// `Markup + str` and `str + Markup` escape the plain side and stay Markup (markupsafe semantics).
    private static func markupConcat(_ a: Value, _ b: Value) -> Value? {
        switch (a, b) {
        case (.markup(let x), .markup(let y)): return .markup(x + y)
        case (.markup(let x), .string(let y)): return .markup(x + htmlEscape(y))
        case (.string(let x), .markup(let y)): return .markup(htmlEscape(x) + y)
        default: return nil
        }
    }

    /// For `seq * n`: the integer operand clamped at zero, or nil if neither side is an int.
    private static func repeatCount(_ a: Value, _ b: Value) -> Int? {
        for v in [a, b] {
            switch v {
            case .int(let i): return max(0, i)
            case .bool(let flag): return flag ? 1 : 0
            default: continue
            }
        }
        return nil
    }

    static func arithmetic(_ op: BinaryOperator, _ x: Number, _ y: Number) throws -> Value {
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case .add:
                let (r, o) = i.addingReportingOverflow(j)
                if o { throw overflow() }
                return .int(r)
            case .subtract:
                let (r, o) = i.subtractingReportingOverflow(j)
                if o { throw overflow() }
                return .int(r)
            case .multiply:
                let (r, o) = i.multipliedReportingOverflow(by: j)
                if o { throw overflow() }
                return .int(r)
            case .divide:
                guard j != 0 else { throw ChatTemplateError.type("division by zero") }
                return .double(Double(i) / Double(j))
            case .floorDivide:
                guard j != 0 else { throw ChatTemplateError.type("integer division or modulo by zero") }
                guard !(i == Int.min && j == -1) else { throw overflow() }
                let q = i / j
                return .int((i % j != 0 && (i < 0) != (j < 0)) ? q - 1 : q)
            case .modulo:
                guard j != 0 else { throw ChatTemplateError.type("integer division or modulo by zero") }
                guard j != -1 else { return .int(0) }
                let r = i % j
                return .int(r != 0 && (r < 0) != (j < 0) ? r + j : r)
            case .power:
                if j < 0 { return .double(cPow(Double(i), Double(j))) }
                var result = 1, base = i, e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow() }
                        base = b2
                    }
                }
                return .int(result)
            }
        }
        let a = x.asDouble, b = y.asDouble
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw ChatTemplateError.type("float division by zero") }
            return .double(a / b)
        case .floorDivide:
            guard b != 0 else { throw ChatTemplateError.type("float floor division by zero") }
            return .double(pyFloatMod(a, b).quotient)
        case .modulo:
            guard b != 0 else { throw ChatTemplateError.type("float modulo") }
            return .double(pyFloatMod(a, b).remainder)
        case .power:
            if a == 0 && b < 0 { throw ChatTemplateError.type("0.0 cannot be raised to a negative power") }
            let r = cPow(a, b)
            if r.isNaN && !a.isNaN && !b.isNaN {
                throw ChatTemplateError.type("complex results (negative number to a fractional power) are not supported")
            }
            return .double(r)
        }
    }

    /// CPython's `float_divmod`.
    private static func pyFloatMod(_ a: Double, _ b: Double) -> (quotient: Double, remainder: Double) {
        var mod = a.truncatingRemainder(dividingBy: b)
        var div = (a - mod) / b
        if mod != 0 {
            if (b < 0) != (mod < 0) {
                mod += b
                div -= 1
            }
        } else {
            mod = b < 0 ? -0.0 : 0.0
        }
        var floordiv: Double
        if div != 0 {
            floordiv = div.rounded(.down)
            if div - floordiv > 0.5 { floordiv += 1 }
        } else {
            floordiv = a / b < 0 ? -0.0 : 0.0
        }
        return (floordiv, mod)
    }

    // MARK: - Comparison

    static func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a.plain, b.plain) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.pyEquals(y)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x.entries {
                guard let w = y[k], equals(v, w) else { return false }
            }
            return true
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.function(let x), .function(let y)): return x === y
        case (.iterator(let x), .iterator(let y)): return x === y
        default:
            if let x = a.number, let y = b.number {
                switch (x, y) {
                case (.int(let i), .int(let j)): return i == j
                default: return x.asDouble == y.asDouble
                }
            }
            return false
        }
    }

    /// Python ordering; nil when the types are unorderable.
    static func order(_ a: Value, _ b: Value) -> Int? {
        let (a, b) = (a.plain, b.plain)
        if let x = a.number, let y = b.number {
            if case .int(let i) = x, case .int(let j) = y { return i < j ? -1 : (i == j ? 0 : 1) }
            let (p, q) = (x.asDouble, y.asDouble)
            return p < q ? -1 : (p == q ? 0 : 1)
        }
        switch (a, b) {
        case (.string(let x), .string(let y)):
            var i = x.unicodeScalars.makeIterator(), j = y.unicodeScalars.makeIterator()
            while true {
                switch (i.next(), j.next()) {
                case (nil, nil): return 0
                case (nil, _): return -1
                case (_, nil): return 1
                case (let c?, let d?): if c != d { return c.value < d.value ? -1 : 1 }
                }
            }
        case (.array(let x), .array(let y)):
            for (p, q) in zip(x, y) where !equals(p, q) { return order(p, q) }
            return x.count < y.count ? -1 : (x.count == y.count ? 0 : 1)
        default:
            return nil
        }
    }

    static func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case .equal: return equals(a, b)
        case .notEqual: return !equals(a, b)
        case .contains: return try contains(b, a)
        case .notContains: return !(try contains(b, a))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            if case .undefined(let m) = a { throw ChatTemplateError.undefined(m) }
            if case .undefined(let m) = b { throw ChatTemplateError.undefined(m) }
            guard let o = order(a, b) else {
                throw ChatTemplateError.type("'\(op.rawValue)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
            }
            switch op {
            case .less: return o < 0
            case .lessOrEqual: return o <= 0
            case .greater: return o > 0
            default: return o >= 0
            }
        }
    }

    /// Python `item in container`.
    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        let (container, item) = (container.plain, item.plain)
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                if case .undefined(let m) = item { throw ChatTemplateError.undefined(m) }
                throw ChatTemplateError.type("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return PyString.contains(s, sub)
        case .array(let items): return items.contains { equals($0, item) }
        case .object(let map):
            guard let k = DictKey.encode(item) else {
                if case .undefined = item { return false }
                throw ChatTemplateError.type("unhashable type: '\(item.typeName)'")
            }
            return map[k] != nil
        case .undefined: return false
        case .iterator(let it): return it.drain().contains { equals($0, item) }
        default: throw ChatTemplateError.type("argument of type '\(container.typeName)' is not iterable")
        }
    }
}
