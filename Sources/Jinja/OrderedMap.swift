/// A string-keyed dictionary that remembers insertion order.
///
/// Python dicts iterate in insertion order and `tojson` serialises them that way,
/// so chat templates that dump tool schemas only match Hugging Face byte-for-byte
/// if key order survives the trip through Swift.
public struct OrderedMap<Value> {
    public private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    public init() {}

    public init(_ entries: [(String, Value)]) {
        for (key, value) in entries { self[key] = value }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Assigning an existing key keeps its original position, as in Python.
    public subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var values: [Value] { keys.map { storage[$0]! } }
    public var entries: [(key: String, value: Value)] { keys.map { ($0, storage[$0]!) } }

    public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> OrderedMap<T> {
        var result = OrderedMap<T>()
        for key in keys { result[key] = try transform(storage[key]!) }
        return result
    }
}

extension OrderedMap: Sendable where Value: Sendable {}
extension OrderedMap: Equatable where Value: Equatable {}
extension OrderedMap: Hashable where Value: Hashable {}
