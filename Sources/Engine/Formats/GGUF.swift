/// A tensor as a GGUF file describes it.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// ggml order: `shape[0]` varies fastest (a row of a matrix has `shape[0]` values).
    public let shape: [Int]
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed, memory-mapped GGUF file (see ggml's `docs/gguf.md`).
///
/// Parsing validates every count, string, shape and offset against the file size before it
/// trusts it, so a truncated or corrupted file is a typed error, never a trap or a huge
/// allocation. Tensor data stays in the map.
public final class GGUFFile: @unchecked Sendable {
    // Immutable after init; the map is read-only.
    public let path: String
    public let version: UInt32
    public let alignment: Int
    public let dataOffset: Int
    public let metadata: [String: GGUFValue]
    public let metadataKeys: [String]
    public let tensors: [String: GGUFTensorInfo]
    public let tensorNames: [String]
    public let file: MappedFile

    public convenience init(path: String) throws(ModelFileError) {
        try self.init(mapped: MappedFile(path: path))
    }

    public init(mapped: MappedFile) throws(ModelFileError) {
        file = mapped
        path = mapped.path
        let path = mapped.path
        var c = ByteCursor(bytes: mapped.bytes, path: path, offset: 0)
        let magic = try c.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {
            let chars = withUnsafeBytes(of: magic.littleEndian) { raw in
                raw.map { (32 ..< 127).contains($0) ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined()
            }
            throw .badMagic(path: path, found: "'\(chars)'")
        }
        version = try c.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(path: path, version: version) }
        let tensorCount = try c.read(UInt64.self, "tensor count")
        let kvCount = try c.read(UInt64.self, "metadata count")
        // Smallest possible records: a kv is a key length, a value type and one byte; a tensor
        // info is a name length, n_dims, one dimension, a type and an offset. A count that could
        // not fit in the whole file is corruption; one that runs past the end is truncation.
        try Self.checkCount(kvCount, minSize: 13, &c, "metadata count")
        try Self.checkCount(tensorCount, minSize: 32, &c, "tensor count")

        var meta: [String: GGUFValue] = [:]
        var keys: [String] = []
        meta.reserveCapacity(Int(kvCount))
        for i in 0 ..< Int(kvCount) {
            let key = try c.string("metadata key #\(i)")
            let rawType = try c.read(UInt32.self, "type of '\(key)'")
            let value = try Self.readValue(&c, rawType: rawType, key: key, depth: 0)
            guard meta[key] == nil else { throw .duplicate(path: path, name: key) }
            meta[key] = value
            keys.append(key)
        }
        metadata = meta
        metadataKeys = keys

        var align = 32
        if let a = meta["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw .badHeader(path: path, reason: "general.alignment must be a power of two")
            }
            align = v
        }
        alignment = align

        struct RawInfo { let name: String; let type: GGMLType; let shape: [Int]; let offset: UInt64 }
        var infos: [RawInfo] = []
        infos.reserveCapacity(Int(tensorCount))
        for i in 0 ..< Int(tensorCount) {
            let name = try c.string("tensor name #\(i)")
            let nDims = try c.read(UInt32.self, "dimensions of '\(name)'")
            guard (1 ... 4).contains(nDims) else {
                throw .badShape(path: path, tensor: name, reason: "\(nDims) dimensions (ggml allows 1 to 4)")
            }
            var shape: [Int] = []
            var elements = 1
            for _ in 0 ..< nDims {
                let d = try c.read(UInt64.self, "shape of '\(name)'")
                guard d > 0, d <= UInt64(Int32.max) else {
                    throw .badShape(path: path, tensor: name, reason: "dimension \(d)")
                }
                let (e, overflow) = elements.multipliedReportingOverflow(by: Int(d))
                guard !overflow, e <= mapped.bytes.count * 8 else {
                    throw .badShape(path: path, tensor: name, reason: "more elements than the file could hold")
                }
                elements = e
                shape.append(Int(d))
            }
            let rawType = try c.read(UInt32.self, "type of '\(name)'")
            let type = GGMLType(rawValue: rawType)
            guard type.isKnown else { throw .unknownTensorType(path: path, tensor: name, raw: rawType) }
            guard shape[0] % type.blockValues == 0 else {
                throw .badShape(path: path, tensor: name, reason: "row of \(shape[0]) is not a whole number of \(type.name) blocks")
            }
            let offset = try c.read(UInt64.self, "offset of '\(name)'")
            guard offset % UInt64(align) == 0 else { throw .misalignedTensor(path: path, tensor: name, offset: offset) }
            infos.append(RawInfo(name: name, type: type, shape: shape, offset: offset))
        }
        let alignedStart = (c.offset + align - 1) / align * align
        // A file without tensors (llama.cpp's vocabulary-only GGUFs) may end right after the
        // header, without the padding that would start a data section; it has no data to check.
        let dataStart = infos.isEmpty ? min(alignedStart, mapped.bytes.count) : alignedStart
        guard dataStart <= mapped.bytes.count else {
            throw .truncated(path: path, what: "tensor data", offset: c.offset)
        }
        dataOffset = dataStart

        var table: [String: GGUFTensorInfo] = [:]
        table.reserveCapacity(infos.count)
        for info in infos {
            guard let bytes = info.type.byteCount(values: info.shape.reduce(1, *)) else {
                throw .badShape(path: path, tensor: info.name, reason: "size overflows")
            }
            guard info.offset <= UInt64(mapped.bytes.count - dataStart),
                  Int(info.offset) + bytes <= mapped.bytes.count - dataStart
            else { throw .tensorOutOfRange(path: path, tensor: info.name) }
            guard table[info.name] == nil else { throw .duplicate(path: path, name: info.name) }
            table[info.name] = GGUFTensorInfo(
                name: info.name, type: info.type, shape: info.shape, offset: dataStart + Int(info.offset), byteCount: bytes)
        }
        tensors = table
        tensorNames = infos.map(\.name)
    }

    private static func checkCount(_ count: UInt64, minSize: Int, _ c: inout ByteCursor, _ what: String) throws(ModelFileError) {
        // Up to a million entries a count is never "absurd", so that a cut-off small file still
        // reports truncation rather than corruption.
        guard count <= UInt64(max(c.bytes.count / minSize, 1 << 20)) else { throw .absurdCount(path: c.path, what: what, count: count) }
        guard count <= UInt64(c.remaining / minSize) else { throw .truncated(path: c.path, what: what, offset: c.offset) }
    }

    private static func readValue(_ c: inout ByteCursor, rawType: UInt32, key: String, depth: Int) throws(ModelFileError) -> GGUFValue {
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw .badValueType(path: c.path, key: key, raw: rawType)
        }
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, key))
        case .int8: return .int8(try c.read(Int8.self, key))
        case .uint16: return .uint16(try c.read(UInt16.self, key))
        case .int16: return .int16(try c.read(Int16.self, key))
        case .uint32: return .uint32(try c.read(UInt32.self, key))
        case .int32: return .int32(try c.read(Int32.self, key))
        case .uint64: return .uint64(try c.read(UInt64.self, key))
        case .int64: return .int64(try c.read(Int64.self, key))
        case .float32: return .float32(Float(bitPattern: try c.read(UInt32.self, key)))
        case .float64: return .float64(Double(bitPattern: try c.read(UInt64.self, key)))
        case .bool: return .bool(try c.read(UInt8.self, key) != 0)
        case .string: return .string(try c.string(key))
        case .array:
            guard depth < 4 else { throw .badHeader(path: c.path, reason: "arrays nested too deeply in '\(key)'") }
            let elemRaw = try c.read(UInt32.self, "element type of '\(key)'")
            guard let elem = GGUFValueType(rawValue: elemRaw) else {
                throw .badValueType(path: c.path, key: key, raw: elemRaw)
            }
            let count = try c.read(UInt64.self, "length of '\(key)'")
            // Every element takes at least one byte (strings and arrays at least eight).
            try checkCount(count, minSize: elem.fixedSize ?? 8, &c, "length of '\(key)'")
            let start = c.offset
            if let size = elem.fixedSize {
                try c.skip(Int(count) * size, key)
            } else {
                for _ in 0 ..< Int(count) { _ = try readValue(&c, rawType: elemRaw, key: key, depth: depth + 1) }
            }
            return .array(GGUFArray(elementType: elemRaw, count: Int(count), offset: start))
        }
    }

    // MARK: - Typed access

    public func tensorData(_ t: GGUFTensorInfo) -> UnsafeRawPointer {
        file.bytes.baseAddress! + t.offset
    }

    public func tensor(_ name: String) throws(ModelFileError) -> GGUFTensorInfo {
        guard let t = tensors[name] else { throw .missingTensor(path: path, tensor: name) }
        return t
    }

    public func string(_ key: String) throws(ModelFileError) -> String {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let s = v.stringValue else { throw .wrongKeyType(path: path, key: key, expected: "a string") }
        return s
    }

    public func int(_ key: String) throws(ModelFileError) -> Int {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let i = v.intValue else { throw .wrongKeyType(path: path, key: key, expected: "an integer") }
        return i
    }

    public func float(_ key: String) throws(ModelFileError) -> Float {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard let d = v.doubleValue else { throw .wrongKeyType(path: path, key: key, expected: "a number") }
        return Float(d)
    }

    public func bool(_ key: String) -> Bool? {
        guard case let .bool(b)? = metadata[key] else { return nil }
        return b
    }

    /// Decodes an array value element by element.
    public func array(_ key: String) throws(ModelFileError) -> [GGUFValue] {
        let a = try arrayRef(key)
        var c = ByteCursor(bytes: file.bytes, path: path, offset: a.offset)
        var out: [GGUFValue] = []
        out.reserveCapacity(a.count)
        for _ in 0 ..< a.count { out.append(try Self.readValue(&c, rawType: a.elementType, key: key, depth: 1)) }
        return out
    }

    public func stringArray(_ key: String) throws(ModelFileError) -> [String] {
        let a = try arrayRef(key)
        guard a.elementType == GGUFValueType.string.rawValue else { throw .wrongKeyType(path: path, key: key, expected: "an array of strings") }
        var c = ByteCursor(bytes: file.bytes, path: path, offset: a.offset)
        var out: [String] = []
        out.reserveCapacity(a.count)
        for _ in 0 ..< a.count { out.append(try c.string(key)) }
        return out
    }

    public func floatArray(_ key: String) throws(ModelFileError) -> [Float] {
        try array(key).map { v throws(ModelFileError) -> Float in
            guard let d = v.doubleValue else { throw .wrongKeyType(path: path, key: key, expected: "an array of numbers") }
            return Float(d)
        }
    }

    public func intArray(_ key: String) throws(ModelFileError) -> [Int] {
        try array(key).map { v throws(ModelFileError) -> Int in
            guard let i = v.intValue else { throw .wrongKeyType(path: path, key: key, expected: "an array of integers") }
            return i
        }
    }

    private func arrayRef(_ key: String) throws(ModelFileError) -> GGUFArray {
        guard let v = metadata[key] else { throw .missingKey(path: path, key: key) }
        guard case let .array(a) = v else { throw .wrongKeyType(path: path, key: key, expected: "an array") }
        return a
    }
}
