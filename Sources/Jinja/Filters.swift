/// jinja2's built-in filters (plus Hugging Face's `tojson`) for the subset chat templates use.
extension Interpreter {
    func applyFilter(_ filter: FilterCall, to value: Value, _ scope: Scope) throws -> Value {
        try applyFilter(filter.name, value, try evaluateArguments(filter.arguments, scope))
    }

    func applyFilter(_ name: String, _ value: Value, _ args: CallArguments) throws -> Value {
        // Markup survives only the filters that produce or preserve it.
        switch name {
        case "safe":
            _ = try args.bind(name, [])
            return .markup(PythonFormat.str(value))
        case "e", "escape":
            _ = try args.bind(name, [])
            if case .markup = value { return value }
            return .markup(htmlEscape(PythonFormat.str(value)))
        case "forceescape":
            _ = try args.bind(name, [])
            return .markup(htmlEscape(PythonFormat.str(value)))
        case "string":
            _ = try args.bind(name, [])
            if case .markup = value { return value }
            return .string(PythonFormat.str(value))
        default:
            return try applyPlainFilter(name, value.plain, args)
        }
    }

    private func applyPlainFilter(_ name: String, _ value: Value, _ args: CallArguments) throws -> Value {
        func bind(_ names: [String], _ defaults: [String: Value] = [:]) throws -> [Value] {
            try args.bind(name, names, defaults: defaults)
        }
        let text = { PythonFormat.str(value) }
        switch name {
        case "abs":
            _ = try bind([])
            switch value.number {
            case .int(let i)?:
                guard i != Int.min else { throw ChatTemplateError.type("integer overflow") }
                return .int(abs(i))
            case .double(let d)?: return .double(abs(d))
            case nil: throw ChatTemplateError.type("bad operand type for abs(): '\(value.typeName)'")
            }
        case "attr":
            let attribute = try Methods.string(try bind(["name"])[0], "attribute name")
            switch value {
            case .namespace(let ns): return ns.attributes[attribute] ?? .undefined("'Namespace' has no attribute '\(attribute)'")
            case .undefined(let m): throw ChatTemplateError.undefined(m)
            case .object: if Methods.dictMethods.contains(attribute) { return try getAttribute(value, attribute) }
            case .string, .array: return try getAttribute(value, attribute)
            default: break
            }
            return .undefined("'\(value.typeName) object' has no attribute '\(attribute)'")
        case "capitalize":
            _ = try bind([])
            return .string(PyString.capitalize(text()))
        case "center":
            let width = try bind(["width"], ["width": .int(80)])[0]
            return try callMethod(.string(text()), "center", CallArguments(positional: [width])) ?? value
        case "count", "length":
            _ = try bind([])
            return .int(try length(value))
        case "d", "default":
            let a = try bind(["default_value", "boolean"], ["default_value": .string(""), "boolean": .bool(false)])
            if value.isUndefined || (a[1].isTruthy && !value.isTruthy) { return a[0] }
            return value
        case "dictsort":
            let a = try bind(["case_sensitive", "by", "reverse"],
                             ["case_sensitive": .bool(false), "by": .string("key"), "reverse": .bool(false)])
            guard case .object(let map) = value else {
                throw ChatTemplateError.type("dictsort requires a mapping, not \(value.typeName)")
            }
            let byValue: Bool
            switch a[1] {
            case .string("key"): byValue = false
            case .string("value"): byValue = true
            default: throw ChatTemplateError.type("You can only sort by either \"key\" or \"value\"")
            }
            let pairs = map.entries.map { Value.array([DictKey.decode($0.key), $0.value]) }
            let sorted = try stableSort(pairs, reverse: a[2].isTruthy) { pair in
                guard case .array(let kv) = pair else { return pair }
                return a[0].isTruthy ? kv[byValue ? 1 : 0] : ignoreCase(kv[byValue ? 1 : 0])
            }
            return .array(sorted)
        case "first", "last":
            _ = try bind([])
            if case .undefined = value { return .undefined("No \(name) item, sequence was empty.") }
            if case .iterator(let it) = value {
                // first() takes one item off a generator; last() needs reversed(), which generators lack.
                guard name == "first" else { throw ChatTemplateError.type("'\(it.kind)' object is not reversible") }
                return it.next() ?? .undefined("No first item, sequence was empty.")
            }
            let items = try iterate(value)
            return (name == "first" ? items.first : items.last) ?? .undefined("No \(name) item, sequence was empty.")
        case "float":
            let fallback = try bind(["default"], ["default": .double(0)])[0]
            switch value {
            case .int(let i): return .double(Double(i))
            case .bool(let b): return .double(b ? 1 : 0)
            case .double: return value
            case .string(let s): return parsePythonFloat(s).map { .double($0) } ?? fallback
            default: return fallback
            }
        case "format":
            guard args.positional.isEmpty || args.keyword.isEmpty else {
                throw ChatTemplateError.type("can't handle positional and keyword arguments at the same time")
            }
            let params: Value = args.keyword.isEmpty
                ? .array(args.positional) : .object(OrderedMap(args.keyword.map { ($0.name, $0.value) }))
            return .string(try Methods.percentFormat(text(), params))
        case "indent":
            let a = try bind(["width", "first", "blank"], ["width": .int(4), "first": .bool(false), "blank": .bool(false)])
            return .string(try indent(text(), a[0], first: a[1].isTruthy, blank: a[2].isTruthy))
        case "int":
            let a = try bind(["default", "base"], ["default": .int(0), "base": .int(10)])
            return try toInt(value, default: a[0], base: try Methods.int(a[1], "base"))
        case "items":
            _ = try bind([])
            switch value {
            case .undefined: return .iterator(PyIterator("generator", []))
            case .object(let map):
                return .iterator(PyIterator("generator", map.entries.map { .array([DictKey.decode($0.key), $0.value]) }))
            default: throw ChatTemplateError.type("Can only get item pairs from a mapping.")
            }
        case "join":
            let a = try bind(["d", "attribute"], ["d": .string(""), "attribute": .none])
            var items = try iterate(value)
            if case .none = a[1] {} else { items = try items.map(attributeGetter(a[1])) }
            return .string(items.map(PythonFormat.str).joined(separator: PythonFormat.str(a[0])))
        case "list":
            _ = try bind([])
            return .array(try iterate(value))
        case "lower":
            _ = try bind([])
            return .string(PyString.lower(text()))
        case "upper":
            _ = try bind([])
            return .string(PyString.upper(text()))
        case "map":
            guard value.isTruthy else { return .iterator(PyIterator("generator", [])) }
            return .iterator(PyIterator("generator", try iterate(value).map(try mapper(args))))
        case "max", "min":
            let a = try bind(["case_sensitive", "attribute"], ["case_sensitive": .bool(false), "attribute": .none])
            let items = try iterate(value)
            let key = try sortKey(caseSensitive: a[0].isTruthy, attribute: a[1])
            guard var best = items.first else { return .undefined("No aggregated item, sequence was empty.") }
            var bestKey = try key(best)
            for item in items.dropFirst() {
                let k = try key(item)
                guard let o = Operators.order(k, bestKey) else {
                    throw ChatTemplateError.type("'<' not supported between instances of '\(k.typeName)' and '\(bestKey.typeName)'")
                }
                if name == "max" ? o > 0 : o < 0 { best = item; bestKey = k }
            }
            return best
        case "reject", "select", "rejectattr", "selectattr":
            guard value.isTruthy else { return .iterator(PyIterator("generator", [])) }
            let predicate = try selector(args, byAttribute: name.hasSuffix("attr"))
            let keep = name.hasPrefix("select")
            return .iterator(PyIterator("generator", try iterate(value).filter { try predicate($0) == keep }))
        case "replace":
            let a = try bind(["old", "new", "count"], ["count": .none])
            let count: Int
            if case .none = a[2] { count = -1 } else { count = try Methods.int(a[2], "count") }
            return .string(PyString.replace(text(), PythonFormat.str(a[0]), PythonFormat.str(a[1]), count: count))
        case "reverse":
            _ = try bind([])
            switch value {
            case .string(let s): return .string(String(scalars: s.unicodeScalars.reversed()))
            case .array(let items): return .iterator(PyIterator("list_reverseiterator", items.reversed()))
            case .object(let map): return .iterator(PyIterator("dict_reversekeyiterator", map.keys.reversed().map(DictKey.decode)))
            default: return .array(try iterate(value).reversed())  // jinja2 falls back to list(value)
            }
        case "round":
            let a = try bind(["precision", "method"], ["precision": .int(0), "method": .string("common")])
            return try round(value, precision: try Methods.int(a[0], "precision"), method: a[1])
        case "sort":
            let a = try bind(["reverse", "case_sensitive", "attribute"],
                             ["reverse": .bool(false), "case_sensitive": .bool(false), "attribute": .none])
            let key = try sortKey(caseSensitive: a[1].isTruthy, attribute: a[2])
            return .array(try stableSort(try iterate(value), reverse: a[0].isTruthy, key: key))
        case "sum":
            let a = try bind(["attribute", "start"], ["attribute": .none, "start": .int(0)])
            var items = try iterate(value)
            if case .none = a[0] {} else { items = try items.map(attributeGetter(a[0])) }
            return try items.reduce(a[1]) { try Operators.binary(.add, $0, $1, limits: limits) }
        case "title":
            _ = try bind([])
            return .string(PyString.jinjaTitle(text()))
        case "tojson":
            return try toJSON(value, try bind(["ensure_ascii", "indent", "separators", "sort_keys"],
                                              ["ensure_ascii": .bool(false), "indent": .none,
                                               "separators": .none, "sort_keys": .bool(false)]))
        case "trim":
            let chars = try bind(["chars"], ["chars": .none])[0]
            return .string(PyString.strip(text(), chars: try Methods.optionalString(chars, "chars")))
        case "unique":
            let a = try bind(["case_sensitive", "attribute"], ["case_sensitive": .bool(false), "attribute": .none])
            let key = try sortKey(caseSensitive: a[0].isTruthy, attribute: a[1])
            var seen: [Value] = []
            var result: [Value] = []
            for item in try iterate(value) {
                let k = try key(item)
                if !seen.contains(where: { Operators.equals($0, k) }) {
                    seen.append(k)
                    result.append(item)
                }
            }
            return .iterator(PyIterator("generator", result))
        case "wordcount":
            _ = try bind([])
            var count = 0, inWord = false
            for c in text().unicodeScalars {
                let isWord = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
                if isWord && !inWord { count += 1 }
                inWord = isWord
            }
            return .int(count)
        default:
            throw ChatTemplateError.unsupported("filter '\(name)'")
        }
    }

    func length(_ value: Value) throws -> Int {
        switch value {
        case .string(let s): return s.pyLength
        case .array(let a): return a.count
        case .object(let o): return o.count
        case .undefined: return 0
        default: throw ChatTemplateError.type("object of type '\(value.typeName)' has no len()")
        }
    }

    // MARK: - Helpers shared by filters

    private func ignoreCase(_ v: Value) -> Value {
        if case .string(let s) = v { return .string(PyString.lower(s)) }
        return v
    }

    /// jinja2's `make_attrgetter`: dotted paths, integer parts used as indices.
    func attributeGetter(_ attribute: Value, default fallback: Value? = nil) throws -> (Value) throws -> Value {
        let parts: [Value]
        switch attribute {
        case .string(let path):
            parts = path.split(separator: ".", omittingEmptySubsequences: false).map { part in
                Int(part).map(Value.int) ?? .string(String(part))
            }
        case .int: parts = [attribute]
        default: throw ChatTemplateError.type("attribute must be a string or integer")
        }
        return { [unowned self] item in
            var current = item
            for part in parts {
                current = try self.getItem(current, part)
                if let fallback, current.isUndefined { current = fallback }
            }
            return current
        }
    }

    private func sortKey(caseSensitive: Bool, attribute: Value) throws -> (Value) throws -> Value {
        let getter: ((Value) throws -> Value)? = attribute.isNone ? nil : try attributeGetter(attribute)
        return { [unowned self] item in
            let v = try getter?(item) ?? item
            return caseSensitive ? v : self.ignoreCase(v)
        }
    }

    /// Python's `sorted(..., key=, reverse=)`: stable, and stable in reverse too.
    func stableSort(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
        let keyed = try items.map { (key: try key($0), value: $0) }
        func before(_ a: Value, _ b: Value) throws -> Bool {
            guard let o = Operators.order(a, b) else {
                throw ChatTemplateError.type("'<' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
            }
            return reverse ? o > 0 : o < 0
        }
        func mergeSort(_ slice: ArraySlice<(key: Value, value: Value)>) throws -> [(key: Value, value: Value)] {
            guard slice.count > 1 else { return Array(slice) }
            let mid = slice.startIndex + slice.count / 2
            let left = try mergeSort(slice[..<mid]), right = try mergeSort(slice[mid...])
            var merged: [(key: Value, value: Value)] = []
            merged.reserveCapacity(slice.count)
            var i = 0, j = 0
            while i < left.count && j < right.count {
                if try before(right[j].key, left[i].key) {
                    merged.append(right[j]); j += 1
                } else {
                    merged.append(left[i]); i += 1
                }
            }
            merged += left[i...]
            merged += right[j...]
            return merged
        }
        return try mergeSort(keyed[...]).map(\.value)
    }

    private func mapper(_ args: CallArguments) throws -> (Value) throws -> Value {
        if args.positional.isEmpty, let attribute = args.keyword.first(where: { $0.name == "attribute" }) {
            let fallback = args.keyword.first(where: { $0.name == "default" })?.value
            guard args.keyword.allSatisfy({ $0.name == "attribute" || $0.name == "default" }) else {
                throw ChatTemplateError.type("Unexpected keyword argument for map")
            }
            return try attributeGetter(attribute.value, default: fallback.flatMap { $0.isNone ? nil : $0 })
        }
        guard let first = args.positional.first, case .string(let filterName) = first else {
            throw ChatTemplateError.type("map requires a filter argument")
        }
        let rest = CallArguments(positional: Array(args.positional.dropFirst()), keyword: args.keyword)
        return { [unowned self] item in try self.applyFilter(filterName, item, rest) }
    }

    private func selector(_ args: CallArguments, byAttribute: Bool) throws -> (Value) throws -> Bool {
        var positional = args.positional[...]
        var transform: (Value) throws -> Value = { $0 }
        if byAttribute {
            guard let attribute = positional.popFirst() else {
                throw ChatTemplateError.type("Missing parameter for attribute name")
            }
            transform = try attributeGetter(attribute)
        }
        guard let testValue = positional.popFirst() else {
            return { try transform($0).isTruthy }
        }
        guard case .string(let testName) = testValue else { throw ChatTemplateError.type("test name must be a string") }
        let rest = CallArguments(positional: Array(positional), keyword: args.keyword)
        return { [unowned self] item in try self.runTest(testName, try transform(item), rest) }
    }

    private func indent(_ s: String, _ width: Value, first: Bool, blank: Bool) throws -> String {
        let indention: String
        switch width {
        case .string(let w): indention = w
        default:
            let n = try Methods.int(width, "width")
            try Methods.checkPadding(n)
            indention = String(repeating: " ", count: max(0, n))
        }
        // jinja2 appends a newline first so that splitlines() keeps a trailing empty line.
        var lines = Methods.splitLines(s + "\n")
        var result: String
        if blank {
            result = lines.joined(separator: "\n" + indention)
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + lines.map { $0.isEmpty ? $0 : indention + $0 }.joined(separator: "\n")
            }
        }
        return first ? indention + result : result
    }

    private func parsePythonFloat(_ s: String) -> Double? {
        var t = PyString.strip(s, chars: nil)
        if t.contains("_") {
            // Python allows single underscores between digits only.
            guard !t.hasPrefix("_"), !t.hasSuffix("_"), !t.contains("__") else { return nil }
            t = t.replacingUnderscores()
        }
        let lower = t.lowercased()
        if lower.contains("x") || lower.contains("p") { return nil }
        return Double(t)
    }

    private func toInt(_ value: Value, default fallback: Value, base: Int) throws -> Value {
        switch value {
        case .int: return value
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d):
            guard d.isFinite else { throw ChatTemplateError.type("cannot convert float \(PythonFormat.float(d)) to integer") }
            return Int(exactly: d.rounded(.towardZero)).map(Value.int) ?? fallback
        case .string(let s):
            var t = PyString.strip(s, chars: nil)
            var negative = false
            if t.hasPrefix("-") || t.hasPrefix("+") {
                negative = t.hasPrefix("-")
                t.removeFirst()
            }
            var radix = base
            let lower = t.lowercased()
            if base == 0 || base == 16 || base == 8 || base == 2 {
                for (prefix, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) && (base == 0 || base == r) {
                    t.removeFirst(2)
                    radix = r
                }
                if radix == 0 { radix = 10 }
            }
            let digits = t.replacingUnderscores()
            if !t.hasPrefix("_"), !t.hasSuffix("_"), !t.contains("__"), (2...36).contains(radix),
               let n = Int(digits, radix: radix), !digits.hasPrefix("+"), !digits.hasPrefix("-") {
                return .int(negative ? -n : n)
            }
            if let d = parsePythonFloat(s) {
                guard d.isFinite else { throw ChatTemplateError.type("cannot convert float infinity to integer") }
                return Int(exactly: d.rounded(.towardZero)).map(Value.int) ?? fallback
            }
            return fallback
        default:
            return fallback
        }
    }

    private func round(_ value: Value, precision: Int, method: Value) throws -> Value {
        guard let n = value.number else {
            throw ChatTemplateError.type("type \(value.typeName) doesn't define __round__ method")
        }
        switch method {
        case .string("common"):
            if case .int(let i) = n { return .int(i) }
            let d = n.asDouble
            guard d.isFinite else { return .double(d) }
            if precision >= 0 {
                // printf rounds the exact binary value half-to-even, which is what Python's round() does.
                return .double(Double(cFormatDouble(d, "%.\(min(precision, 300))f")) ?? d)
            }
            let scale = cPow(10, Double(-precision))
            return .double((d / scale).rounded(.toNearestOrEven) * scale)
        case .string(let m) where m == "floor" || m == "ceil":
            let scale = cPow(10, Double(precision))
            let scaled = n.asDouble * scale
            return .double((m == "floor" ? scaled.rounded(.down) : scaled.rounded(.up)) / scale)
        default:
            throw ChatTemplateError.type("method must be 'common', 'ceil' or 'floor'")
        }
    }

    /// Hugging Face's `tojson`: `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=False)`.
    private func toJSON(_ value: Value, _ a: [Value]) throws -> Value {
        let indent: String?
        switch a[1] {
        case .none: indent = nil
        case .string(let s): indent = s
        default:
            let n = try Methods.int(a[1], "indent")
            try Methods.checkPadding(n)
            indent = String(repeating: " ", count: max(0, n))
        }
        var separators: (item: String, key: String)?
        if case .array(let pair) = a[2] {
            guard pair.count == 2, case .string(let item) = pair[0], case .string(let key) = pair[1] else {
                throw ChatTemplateError.type("separators must be a pair of strings")
            }
            separators = (item, key)
        } else if !a[2].isNone {
            throw ChatTemplateError.type("separators must be a pair of strings")
        }
        var subject = value
        if a[3].isTruthy { subject = sortingKeys(value) }
        var json = try PythonJSON.dumps(subject, indent: indent, separators: separators)
        if a[0].isTruthy { json = asciiEscaped(json) }
        return .string(json)
    }

    private func sortingKeys(_ value: Value) -> Value {
        switch value {
        case .array(let items): return .array(items.map(sortingKeys))
        case .object(let map):
            let keys = map.keys.sorted { Operators.order(.string($0), .string($1)) ?? 0 < 0 }
            return .object(OrderedMap(keys.map { ($0, sortingKeys(map[$0]!)) }))
        default: return value
        }
    }

    /// `ensure_ascii=True`: non-ASCII as `\uXXXX`, astral characters as surrogate pairs.
    private func asciiEscaped(_ json: String) -> String {
        var out = ""
        for c in json.unicodeScalars {
            if c.isASCII { out.unicodeScalars.append(c); continue }
            for unit in String(c).utf16 {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out
    }
}

extension Value {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}

extension String {
    func replacingUnderscores() -> String { String(scalars: unicodeScalars.filter { $0 != "_" }) }
}

/// markupsafe's `escape`.
func htmlEscape(_ s: String) -> String {
    var out = ""
    for c in s.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&#34;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}
