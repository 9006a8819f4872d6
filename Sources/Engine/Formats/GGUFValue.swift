/// One GGUF metadata value. Arrays are kept as a reference into the mapped file and decoded
/// on request, because a vocabulary array holds hundreds of thousands of strings that most
/// readers of the metadata never touch.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array(GGUFArray)

    /// The value as an integer, when it is one of the integer types.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        case let .bool(v): v ? 1 : 0
        default: nil
        }
    }

    /// The value as a floating-point number, when it is numeric.
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// A short rendering for `ringside models` and error messages.
    public var summary: String {
        switch self {
        case let .string(s): s.count > 60 ? "\"\(s.prefix(57))...\"" : "\"\(s)\""
        case let .array(a): "[\(GGUFValueType(rawValue: a.elementType)?.name ?? "?") x \(a.count)]"
        case let .bool(b): String(b)
        case let .float32(f): String(f)
        case let .float64(f): String(f)
        default: intValue.map(String.init) ?? "?"
        }
    }
}

/// Where an array value lies in the file; decode it with `GGUFFile.array(_:)`.
public struct GGUFArray: Sendable, Equatable {
    public let elementType: UInt32
    public let count: Int
    let offset: Int
}

enum GGUFValueType: UInt32 {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    var name: String { String(describing: self) }

    /// Size of a fixed-width element; nil for strings and arrays.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }
}
