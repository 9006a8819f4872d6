/// Python methods templates call on strings, dicts and lists (`s.strip()`, `d.get(k)`, ...).
enum Methods {
    /// Cap for widths in padding methods (`zfill`, `ljust`, `%999999999s`...), so a template
    /// cannot request gigabytes of spaces in one call.
    static let maxPadding = 1 << 24

    static func checkPadding(_ width: Int) throws {
        if width > maxPadding { throw ChatTemplateError.limitExceeded("padding width \(width) exceeds \(maxPadding)") }
    }

    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
        "upper", "lower", "title", "capitalize", "replace", "find", "rfind", "index", "rindex", "count",
        "join", "format", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric",
        "isdecimal", "zfill", "ljust", "rjust", "center", "partition", "rpartition", "removeprefix",
        "removesuffix", "swapcase", "casefold",
    ]
    static let dictMethods: Set<String> = [
        "get", "items", "keys", "values", "copy", "pop", "popitem", "update", "setdefault", "clear",
    ]
    static let listMethods: Set<String> = [
        "count", "index", "copy", "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear",
    ]
    /// What jinja2's ImmutableSandboxedEnvironment refuses to call.
    private static let mutating: Set<String> = [
        "pop", "popitem", "update", "setdefault", "clear", "append", "extend", "insert", "remove", "reverse", "sort",
    ]

    static func string(_ v: Value, _ what: String) throws -> String {
        if case .string(let s) = v.plain { return s }
        if case .undefined(let m) = v { throw ChatTemplateError.undefined(m) }
        throw ChatTemplateError.type("\(what) must be str, not \(v.typeName)")
    }

    static func optionalString(_ v: Value, _ what: String) throws -> String? {
        if case .none = v { return nil }
        return try string(v, what)
    }

    static func int(_ v: Value, _ what: String) throws -> Int {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: throw ChatTemplateError.type("\(what) must be an integer, not \(v.typeName)")
        }
    }

    // MARK: - printf-style `%` formatting

    /// `format % args`, covering the conversions chat templates plausibly use.
    static func percentFormat(_ format: String, _ args: Value) throws -> String {
        var positional: [Value]
        var mapping: OrderedMap<Value>?
        switch args {
        case .array(let items): positional = items
        case .object(let map): positional = [args]; mapping = map
        default: positional = [args]
        }
        let f = format.scalars
        var out = ""
        var i = 0
        var next = 0
        func take() throws -> Value {
            guard next < positional.count else { throw ChatTemplateError.type("not enough arguments for format string") }
            defer { next += 1 }
            return positional[next]
        }
        while i < f.count {
            let c = f[i]
            i += 1
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            guard i < f.count else { throw ChatTemplateError.type("incomplete format") }
            var key: String?
            if f[i] == "(" {
                guard let close = f[i...].firstIndex(of: ")") else { throw ChatTemplateError.type("incomplete format key") }
                key = String(scalars: f[(i + 1)..<close])
                i = close + 1
            }
            var flags = ""
            while i < f.count, "-+ #0".unicodeScalars.contains(f[i]) { flags.unicodeScalars.append(f[i]); i += 1 }
            var width = ""
            while i < f.count, f[i].properties.numericType == .decimal, f[i].isASCII { width.unicodeScalars.append(f[i]); i += 1 }
            var precision: Int?
            if i < f.count, f[i] == "." {
                i += 1
                var p = ""
                while i < f.count, f[i].isASCII, f[i].properties.numericType == .decimal { p.unicodeScalars.append(f[i]); i += 1 }
                precision = Int(p) ?? 0
            }
            guard i < f.count else { throw ChatTemplateError.type("incomplete format") }
            let conversion = f[i]
            i += 1
            if conversion == "%" { out += "%"; continue }
            let value: Value
            if let key {
                guard let mapping else { throw ChatTemplateError.type("format requires a mapping") }
                guard let v = mapping[key] else { throw ChatTemplateError.type("KeyError: '\(key)'") }
                value = v
            } else {
                value = try take()
            }
            var body: String
            switch conversion {
            case "s":
                body = PythonFormat.str(value)
                if let precision { body = String(scalars: body.scalars.prefix(precision)) }
            case "r":
                body = PythonFormat.repr(value)
            case "d", "i", "u":
                switch value.number {
                case .int(let n)?: body = String(n)
                case .double(let d)?:
                    guard d.isFinite, let n = Int(exactly: d.rounded(.towardZero)) else {
                        throw ChatTemplateError.type("cannot convert float to integer")
                    }
                    body = String(n)
                case nil: throw ChatTemplateError.type("%\(Character(conversion)) format: a real number is required, not \(value.typeName)")
                }
                if flags.contains("+") && !body.hasPrefix("-") { body = "+" + body }
            case "f", "F", "e", "E", "g", "G":
                guard let n = value.number else {
                    throw ChatTemplateError.type("must be real number, not \(value.typeName)")
                }
                body = cFormatDouble(n.asDouble, "%" + (flags.contains("+") ? "+" : "") + ".\(precision ?? 6)" + String(Character(conversion)))
            case "x", "X", "o":
                guard case .int(let n)? = value.number else {
                    throw ChatTemplateError.type("%\(Character(conversion)) format: an integer is required, not \(value.typeName)")
                }
                body = String(n, radix: conversion == "o" ? 8 : 16, uppercase: conversion == "X")
            default:
                throw ChatTemplateError.unsupported("'%\(Character(conversion))' in %-formatting")
            }
            if let w = Int(width), body.pyLength < w {
                try checkPadding(w)
                let pad = w - body.pyLength
                if flags.contains("-") {
                    body += String(repeating: " ", count: pad)
                } else if flags.contains("0") && conversion != "s" && conversion != "r" {
                    let negative = body.hasPrefix("-") || body.hasPrefix("+")
                    let sign = negative ? String(body.removeFirst()) : ""
                    body = sign + String(repeating: "0", count: pad) + body
                } else {
                    body = String(repeating: " ", count: pad) + body
                }
            }
            out += body
        }
        if mapping == nil && next < positional.count {
            throw ChatTemplateError.type("not all arguments converted during string formatting")
        }
        return out
    }

    /// `str.format` with `{}`, `{0}`, `{name}` and `!r`/`!s`; format specs are not supported.
    static func braceFormat(_ format: String, _ args: CallArguments) throws -> String {
        let f = format.scalars
        var out = ""
        var i = 0
        var auto = 0
        while i < f.count {
            let c = f[i]
            if c == "{" && i + 1 < f.count && f[i + 1] == "{" { out += "{"; i += 2; continue }
            if c == "}" && i + 1 < f.count && f[i + 1] == "}" { out += "}"; i += 2; continue }
            if c == "}" { throw ChatTemplateError.type("Single '}' encountered in format string") }
            guard c == "{" else { out.unicodeScalars.append(c); i += 1; continue }
            guard let close = f[i...].firstIndex(of: "}") else {
                throw ChatTemplateError.type("Single '{' encountered in format string")
            }
            var field = String(scalars: f[(i + 1)..<close])
            i = close + 1
            if field.contains(":") { throw ChatTemplateError.unsupported("format specs in str.format ('{\(field)}')") }
            var conversion: Character = "s"
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first ?? "s"
                field = String(field[..<bang])
            }
            let value: Value
            if field.isEmpty {
                guard auto < args.positional.count else { throw ChatTemplateError.type("Replacement index \(auto) out of range") }
                value = args.positional[auto]
                auto += 1
            } else if let n = Int(field) {
                guard n >= 0 && n < args.positional.count else { throw ChatTemplateError.type("Replacement index \(n) out of range") }
                value = args.positional[n]
            } else if let kw = args.keyword.first(where: { $0.name == field }) {
                value = kw.value
            } else {
                throw ChatTemplateError.type("KeyError: '\(field)'")
            }
            out += conversion == "r" ? PythonFormat.repr(value) : PythonFormat.str(value)
        }
        return out
    }

    static func splitLines(_ s: String, keepEnds: Bool = false) -> [String] {
        var lines: [String] = []
        var current: [Unicode.Scalar] = []
        let a = s.scalars
        var i = 0
        while i < a.count {
            let c = a[i]
            let isBreak: Bool
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: isBreak = true
            default: isBreak = false
            }
            i += 1
            guard isBreak else { current.append(c); continue }
            if keepEnds { current.append(c) }
            if c == "\r" && i < a.count && a[i] == "\n" {
                if keepEnds { current.append("\n") }
                i += 1
            }
            lines.append(String(scalars: current))
            current = []
        }
        if !current.isEmpty { lines.append(String(scalars: current)) }
        return lines
    }
}

extension Interpreter {
    /// Calls a Python method on a value; nil when the type has no such method.
    func callMethod(_ object: Value, _ name: String, _ args: CallArguments) throws -> Value? {
        let object = object.plain
        switch object {
        case .string(let s):
            guard Methods.stringMethods.contains(name) else { return nil }
            return try stringMethod(s, name, args)
        case .object(let map):
            guard Methods.dictMethods.contains(name) else { return nil }
            if ["pop", "popitem", "update", "setdefault", "clear"].contains(name) {
                throw ChatTemplateError.security("access to attribute '\(name)' of 'dict' object is unsafe.")
            }
            switch name {
            case "get":
                let a = try args.bind("get", ["key", "default"], defaults: ["default": .none])
                guard let k = DictKey.encode(a[0]) else { return a[1] }
                return map[k] ?? a[1]
            case "items":
                _ = try args.bind("items", [])
                return .array(map.entries.map { .array([DictKey.decode($0.key), $0.value]) })
            case "keys":
                _ = try args.bind("keys", [])
                return .array(map.keys.map(DictKey.decode))
            case "values":
                _ = try args.bind("values", [])
                return .array(map.values)
            default:
                return object
            }
        case .array(let items):
            guard Methods.listMethods.contains(name) else { return nil }
            switch name {
            case "count":
                let a = try args.bind("count", ["value"])
                return .int(items.filter { Operators.equals($0, a[0]) }.count)
            case "index":
                let a = try args.bind("index", ["value"])
                guard let i = items.firstIndex(where: { Operators.equals($0, a[0]) }) else {
                    throw ChatTemplateError.type("\(PythonFormat.repr(a[0])) is not in list")
                }
                return .int(i)
            case "copy":
                return object
            default:
                throw ChatTemplateError.security("access to attribute '\(name)' of 'list' object is unsafe.")
            }
        default:
            return nil
        }
    }

    private func stringMethod(_ s: String, _ name: String, _ args: CallArguments) throws -> Value {
        func bind(_ names: [String], _ defaults: [String: Value] = [:]) throws -> [Value] {
            try args.bind(name, names, defaults: defaults)
        }
        func bool(_ predicate: (Unicode.Scalar) -> Bool) throws -> Value {
            _ = try bind([])
            return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(predicate))
        }
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try Methods.optionalString(try bind(["chars"], ["chars": .none])[0], "chars")
            return .string(PyString.strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let a = try bind(["sep", "maxsplit"], ["sep": .none, "maxsplit": .int(-1)])
            let sep = try Methods.optionalString(a[0], "sep")
            let max = try Methods.int(a[1], "maxsplit")
            let parts = name == "split" ? try PyString.split(s, separator: sep, maxSplit: max)
                                        : try PyString.rsplit(s, separator: sep, maxSplit: max)
            return .array(parts.map { .string($0) })
        case "splitlines":
            let keep = try bind(["keepends"], ["keepends": .bool(false)])[0].isTruthy
            return .array(Methods.splitLines(s, keepEnds: keep).map { .string($0) })
        case "startswith", "endswith":
            let a = try bind(["prefix"])
            let candidates: [Value]
            if case .array(let items) = a[0] { candidates = items } else { candidates = [a[0]] }
            for candidate in candidates {
                let p = try Methods.string(candidate, "\(name) argument")
                if name == "startswith" ? PyString.hasPrefix(s, p) : PyString.hasSuffix(s, p) { return .bool(true) }
            }
            return .bool(false)
        case "upper": _ = try bind([]); return .string(PyString.upper(s))
        case "lower", "casefold": _ = try bind([]); return .string(PyString.lower(s))
        case "title": _ = try bind([]); return .string(PyString.title(s))
        case "capitalize": _ = try bind([]); return .string(PyString.capitalize(s))
        case "swapcase":
            _ = try bind([])
            return .string(s.unicodeScalars.map {
                $0.properties.isUppercase ? $0.properties.lowercaseMapping
                    : $0.properties.isLowercase ? $0.properties.uppercaseMapping : String($0)
            }.joined())
        case "replace":
            let a = try bind(["old", "new", "count"], ["count": .int(-1)])
            return .string(PyString.replace(s, try Methods.string(a[0], "replace() argument 1"),
                                            try Methods.string(a[1], "replace() argument 2"),
                                            count: try Methods.int(a[2], "count")))
        case "find", "rfind", "index", "rindex":
            let sub = try Methods.string(try bind(["sub"])[0], "\(name) argument").scalars
            let found = name.hasPrefix("r")
                ? PyString.rfind(s.scalars, sub) : PyString.find(s.scalars, sub)
            if let found { return .int(found) }
            if name.hasSuffix("index") { throw ChatTemplateError.type("substring not found") }
            return .int(-1)
        case "count":
            return .int(PyString.count(s, try Methods.string(try bind(["sub"])[0], "count argument")))
        case "join":
            let items = try iterate(try bind(["iterable"])[0])
            return .string(try items.enumerated().map { i, v in
                guard case .string(let piece) = v else {
                    throw ChatTemplateError.type("sequence item \(i): expected str instance, \(v.typeName) found")
                }
                return piece
            }.joined(separator: s))
        case "format":
            return .string(try Methods.braceFormat(s, args))
        case "isdigit", "isnumeric", "isdecimal":
            return try bool { $0.properties.numericType != nil }
        case "isalpha": return try bool { $0.properties.isAlphabetic }
        case "isalnum": return try bool { $0.properties.isAlphabetic || $0.properties.numericType != nil }
        case "isspace": return try bool(isPythonWhitespace)
        case "isupper", "islower":
            _ = try bind([])
            let cased = s.unicodeScalars.filter { $0.properties.isCased }
            let wanted: (Unicode.Scalar) -> Bool = name == "isupper"
                ? { $0.properties.isUppercase } : { $0.properties.isLowercase }
            return .bool(!cased.isEmpty && cased.allSatisfy(wanted))
        case "zfill":
            let width = try Methods.int(try bind(["width"])[0], "width")
            try Methods.checkPadding(width)
            let length = s.pyLength
            guard width > length else { return .string(s) }
            var body = s
            var sign = ""
            if let first = body.first, first == "+" || first == "-" { sign = String(body.removeFirst()) }
            return .string(sign + String(repeating: "0", count: width - length) + body)
        case "ljust", "rjust", "center":
            let a = try bind(["width", "fillchar"], ["fillchar": .string(" ")])
            let width = try Methods.int(a[0], "width")
            try Methods.checkPadding(width)
            let fill = try Methods.string(a[1], "fillchar")
            let pad = width - s.pyLength
            guard pad > 0 else { return .string(s) }
            switch name {
            case "ljust": return .string(s + String(repeating: fill, count: pad))
            case "rjust": return .string(String(repeating: fill, count: pad) + s)
            default:
                // CPython puts the extra character on the left when the string length is odd.
                let left = pad / 2 + (pad & width & 1)
                return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: pad - left))
            }
        case "partition", "rpartition":
            let sep = try Methods.string(try bind(["sep"])[0], "separator")
            let h = s.scalars, n = sep.scalars
            guard !n.isEmpty else { throw ChatTemplateError.type("empty separator") }
            let found = name == "partition" ? PyString.find(h, n) : PyString.rfind(h, n)
            guard let at = found else {
                return name == "partition" ? .array([.string(s), .string(""), .string("")])
                                           : .array([.string(""), .string(""), .string(s)])
            }
            return .array([.string(String(scalars: h[..<at])), .string(sep), .string(String(scalars: h[(at + n.count)...]))])
        case "removeprefix":
            let p = try Methods.string(try bind(["prefix"])[0], "prefix")
            return .string(PyString.hasPrefix(s, p) ? String(scalars: s.scalars.dropFirst(p.pyLength)) : s)
        case "removesuffix":
            let p = try Methods.string(try bind(["suffix"])[0], "suffix")
            return .string(PyString.hasSuffix(s, p) && !p.isEmpty ? String(scalars: s.scalars.dropLast(p.pyLength)) : s)
        default:
            throw ChatTemplateError.unsupported("str.\(name)()")
        }
    }
}
