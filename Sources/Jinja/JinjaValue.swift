/// A JSON-like value passed into a chat template: messages, tools, flags, special tokens.
///
/// Objects keep key order (see ``OrderedMap``) because `tojson` output depends on it.
public indirect enum JinjaValue: Sendable, Equatable, Hashable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JinjaValue])
    case object(OrderedMap<JinjaValue>)

    /// Builds an object from key/value pairs, keeping their order.
    public static func object(_ entries: [(String, JinjaValue)]) -> JinjaValue {
        .object(OrderedMap(entries))
    }

    public subscript(key: String) -> JinjaValue? {
        if case .object(let map) = self { return map[key] }
        return nil
    }

    /// The value as a string if it is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

extension JinjaValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .none }
}

extension JinjaValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JinjaValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
}

extension JinjaValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JinjaValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JinjaValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JinjaValue...) { self = .array(elements) }
}

extension JinjaValue: ExpressibleByDictionaryLiteral {
    /// Dictionary literals keep their written order.
    public init(dictionaryLiteral elements: (String, JinjaValue)...) {
        self = .object(OrderedMap(elements))
    }
}

extension JinjaValue {
    /// Parses JSON text, keeping object key order (Foundation's parser loses it).
    public init(json: String) throws {
        var parser = JSONParser(Array(json.utf8))
        self = try parser.parseDocument()
    }

    /// Serialises like Python's `json.dumps(value, ensure_ascii=False)`,
    /// which is what Hugging Face's `tojson` filter produces.
    public func jsonString(indent: Int? = nil) -> String {
        // Only non-JSON runtime kinds can fail, and a JinjaValue has none of them.
        (try? dumpJSON(self, indent: indent.map { String(repeating: " ", count: $0) })) ?? ""
    }
}

// Outside the extension: there `Value` would name ExpressibleByDictionaryLiteral.Value.
private func dumpJSON(_ value: JinjaValue, indent: String?) throws -> String {
    try PythonJSON.dumps(Value(value), indent: indent)
}
