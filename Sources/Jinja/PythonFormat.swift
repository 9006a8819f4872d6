/// Python's `str()`, `repr()` and `json.dumps()` — what jinja2 prints is whatever Python prints.
enum PythonFormat {
    /// `str(value)`, used by `{{ }}`, `~`, `string` and `join`.
    static func str(_ value: Value) -> String {
        switch value {
        case .undefined: ""
        case .string(let s), .markup(let s): s
        default: repr(value)
        }
    }

    static func repr(_ value: Value) -> String {
        switch value {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        case .string(let s): return stringRepr(s)
        case .markup(let s): return "Markup(" + stringRepr(s) + ")"
        case .array(let items): return "[" + items.map(repr).joined(separator: ", ") + "]"
        case .object(let map):
            return "{" + map.entries.map { repr(DictKey.decode($0.key)) + ": " + repr($0.value) }.joined(separator: ", ") + "}"
        case .namespace(let ns): return "<Namespace " + repr(.object(ns.attributes)) + ">"
        case .function(let f): return "<function \(f.name)>"
        case .iterator(let it): return "<\(it.kind) object>"
        }
    }

    /// `repr(float)`: shortest round-tripping digits, exponent form outside 1e-4 ..< 1e16.
    static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        let sign = d.sign == .minus ? "-" : ""
        if d == 0 { return sign + "0.0" }
        // Swift's description already yields the shortest round-trip digits; only the layout differs.
        let text = d.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var decimalPoint = 0
        if let dot = mantissa.firstIndex(of: ".") {
            let intPart = mantissa[..<dot]
            digits = String(intPart) + mantissa[mantissa.index(after: dot)...]
            decimalPoint = intPart.count
        } else {
            digits = String(mantissa)
            decimalPoint = mantissa.count
        }
        decimalPoint += exponent
        while digits.first == "0" {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return sign + "0.0" }

        if decimalPoint > 16 || decimalPoint <= -4 {
            let e = decimalPoint - 1
            var m = String(digits.first!)
            if digits.count > 1 { m += "." + digits.dropFirst() }
            let expDigits = String(abs(e))
            return sign + m + "e" + (e < 0 ? "-" : "+") + (expDigits.count < 2 ? "0" : "") + expDigits
        }
        if decimalPoint <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits
        }
        if decimalPoint >= digits.count {
            return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + digits[..<split] + "." + digits[split...]
    }

    static func stringRepr(_ s: String) -> String {
        let hasSingle = s.unicodeScalars.contains("'")
        let hasDouble = s.unicodeScalars.contains("\"")
        let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\":
                out.append("\\")
                out.append(c)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPrintable(c) {
                    out.append(c)
                } else {
                    let hex = String(c.value, radix: 16)
                    let (prefix, width) = c.value < 0x100 ? ("\\x", 2) : c.value < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                    out.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// `str.isprintable()` for one character.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
             .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }
}

/// `json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=False)`,
/// i.e. Hugging Face's replacement for jinja2's HTML-escaping `tojson`.
enum PythonJSON {
    static func dumps(_ value: Value, indent: String?, separators: (item: String, key: String)? = nil) throws -> String {
        let seps = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
        var out = ""
        try write(value, into: &out, indent: indent, separators: seps, level: 0)
        return out
    }

    private static func write(_ value: Value, into out: inout String, indent: String?,
                              separators: (item: String, key: String), level: Int) throws {
        guard level < 512 else { throw ChatTemplateError.limitExceeded("tojson nesting deeper than 512") }
        switch value {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else {
                out += PythonFormat.float(d)
            }
        case .string(let s), .markup(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += separators.item }
                newline(&out, indent, level + 1)
                try write(item, into: &out, indent: indent, separators: separators, level: level + 1)
            }
            newline(&out, indent, level)
            out += "]"
        case .object(let map):
            if map.isEmpty { out += "{}"; return }
            out += "{"
            for (i, (key, item)) in map.entries.enumerated() {
                if i > 0 { out += separators.item }
                newline(&out, indent, level + 1)
                writeString(DictKey.jsonKey(key), into: &out)
                out += separators.key
                try write(item, into: &out, indent: indent, separators: separators, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        case .undefined, .namespace, .function, .iterator:
            throw ChatTemplateError.type("Object of type \(value.typeName) is not JSON serializable")
        }
    }

    private static func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }

    private static func writeString(_ s: String, into out: inout String) {
        var scalars = String.UnicodeScalarView()
        scalars.append("\"")
        for c in s.unicodeScalars {
            switch c {
            case "\"": scalars.append(contentsOf: "\\\"".unicodeScalars)
            case "\\": scalars.append(contentsOf: "\\\\".unicodeScalars)
            case "\n": scalars.append(contentsOf: "\\n".unicodeScalars)
            case "\r": scalars.append(contentsOf: "\\r".unicodeScalars)
            case "\t": scalars.append(contentsOf: "\\t".unicodeScalars)
            case "\u{08}": scalars.append(contentsOf: "\\b".unicodeScalars)
            case "\u{0C}": scalars.append(contentsOf: "\\f".unicodeScalars)
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    scalars.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
                } else {
                    scalars.append(c)
                }
            }
        }
        scalars.append("\"")
        out += String(scalars)
    }
}
