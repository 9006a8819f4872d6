/// Typed access to a request object's fields, each check failing with a 400 that names the
/// field. A field sent as `null` counts as absent, as in OpenAI's API.
struct Fields {
    private let pairs: [(String, JSON)]
    private(set) var used: Set<String> = []

    init(_ json: JSON, what: String = "the request body") throws {
        guard case .object(let p) = json else { throw APIError.badRequest("\(what) must be a JSON object, not \(json.typeName)") }
        pairs = p
    }

    var keys: [String] { pairs.map(\.0) }

    mutating func raw(_ key: String) -> JSON? {
        used.insert(key)
        guard let v = pairs.first(where: { $0.0 == key })?.1, v != .null else { return nil }
        return v
    }

    mutating func string(_ key: String) throws -> String? {
        guard let v = raw(key) else { return nil }
        guard case .string(let s) = v else { throw APIError.invalidType(key, expected: "a string", got: v) }
        return s
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let v = raw(key) else { return nil }
        guard case .bool(let b) = v else { throw APIError.invalidType(key, expected: "a boolean", got: v) }
        return b
    }

    mutating func int(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v = raw(key) else { return nil }
        let n: Int
        switch v {
        case .int(let i): n = i
        // 2.0 is an integer to Python clients; 2.5 is not.
        case .double(let d) where d == d.rounded() && abs(d) < 1e15: n = Int(d)
        default: throw APIError.invalidType(key, expected: "an integer", got: v)
        }
        guard range.contains(n) else { throw APIError.outOfRange(key, "in \(range.lowerBound)...\(range.upperBound), not \(n)") }
        return n
    }

    mutating func number(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
        guard let v = raw(key) else { return nil }
        let d: Double
        switch v {
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        default: throw APIError.invalidType(key, expected: "a number", got: v)
        }
        guard range.contains(d) else { throw APIError.outOfRange(key, "in \(range.lowerBound)...\(range.upperBound), not \(d)") }
        return d
    }

    /// Fields the request sent (not null) that nothing read.
    var unread: [String] {
        pairs.filter { !used.contains($0.0) && $0.1 != .null }.map(\.0)
    }
}
