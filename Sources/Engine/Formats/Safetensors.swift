import Foundation

/// A memory-mapped `.safetensors` file: a little-endian u64 header length, a JSON header
/// naming each tensor's dtype, shape and byte range, then the raw data (MODELS.md 6.2).
public final class SafetensorsFile: Sendable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dtype: String
        /// Row-major, outermost first (the opposite order of GGUF's `ne`).
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let begin: Int
        public let end: Int

        public var elementCount: Int { shape.reduce(1, *) }

        /// The ggml type with the same element layout, for the dtypes we compute with.
        public var ggmlType: GGMLType? {
            switch dtype {
            case "F32": .f32
            case "F16": .f16
            case "BF16": .bf16
            default: nil
            }
        }
    }

    public let path: String
    public let tensors: [String: Tensor]
    public let metadata: [String: String]
    private let map: MappedFile
    private let dataStart: Int

    static let dtypeSizes = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                             "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4, "U64": 8]

    public init(path: String) throws(ModelFileError) {
        self.path = path
        map = try MappedFile(path: path)
        let bytes = map.bytes
        guard bytes.count >= 8 else { throw .truncated(path: path, what: "header length", offset: 0) }
        let headerLength = bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        guard headerLength <= UInt64(min(bytes.count - 8, 100 << 20)) else {
            throw .absurdCount(path: path, what: "header length", count: headerLength)
        }
        dataStart = 8 + Int(headerLength)
        let json = Data(bytes[8 ..< dataStart])
        guard let obj = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw .badHeader(path: path, reason: "the safetensors header is not a JSON object")
        }
        var ts: [String: Tensor] = [:]
        var meta: [String: String] = [:]
        let dataSize = bytes.count - dataStart
        for (name, value) in obj {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { meta[k] = v as? String }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw .badHeader(path: path, reason: "tensor '\(name)' has no dtype, shape or data_offsets") }
            guard let size = Self.dtypeSizes[dtype] else {
                throw .unsupportedTensorType(path: path, tensor: name, type: dtype)
            }
            guard shape.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }) else { throw .badShape(path: path, tensor: name, reason: "\(shape)") }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (m, o) = acc.0.multipliedReportingOverflow(by: d)
                return (m, acc.1 || o)
            }
            let (bytesNeeded, tooBig) = count.multipliedReportingOverflow(by: size)
            guard !overflow, !tooBig, offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= dataSize else {
                throw .tensorOutOfRange(path: path, tensor: name)
            }
            guard offsets[1] - offsets[0] == bytesNeeded else {
                throw .badShape(path: path, tensor: name, reason: "\(shape) of \(dtype) needs \(bytesNeeded) bytes, the header gives \(offsets[1] - offsets[0])")
            }
            ts[name] = Tensor(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        // Two tensors sharing bytes would alias each other's weights.
        let byStart = ts.values.filter { $0.end > $0.begin }.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (a, b) in zip(byStart, byStart.dropFirst()) where b.begin < a.end {
            throw .badHeader(path: path, reason: "tensors '\(a.name)' (bytes \(a.begin)..<\(a.end)) and '\(b.name)' (bytes \(b.begin)..<\(b.end)) overlap")
        }
        tensors = ts
        metadata = meta
    }

    public func data(_ t: Tensor) -> UnsafeRawPointer {
        map.bytes.baseAddress! + dataStart + t.begin
    }
}

/// A Hugging Face model folder's weights: one `model.safetensors`, or shards listed in
/// `model.safetensors.index.json`.
public struct SafetensorsModel: Sendable {
    public let directory: String
    let files: [SafetensorsFile]
    let index: [String: Int]

    public init(directory: String) throws(ModelFileError) {
        self.directory = directory
        let fm = FileManager.default
        let indexPath = directory + "/model.safetensors.index.json"
        var names: [String]
        var expected: [String: String] = [:]
        if fm.fileExists(atPath: indexPath) {
            guard let data = fm.contents(atPath: indexPath),
                  let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = obj["weight_map"] as? [String: String]
            else { throw .badHeader(path: indexPath, reason: "no weight_map in the shard index") }
            names = Array(Set(map.values)).sorted()
            // Shards live in the model folder itself.
            if let bad = names.first(where: { $0.contains("/") || $0.isEmpty }) {
                throw .badHeader(path: indexPath, reason: "shard name '\(bad)' is not a file in the model folder")
            }
            expected = map
        } else {
            names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
        }
        guard !names.isEmpty else { throw .io(path: directory, reason: "no .safetensors files in the folder") }
        var files: [SafetensorsFile] = []
        var index: [String: Int] = [:]
        for n in names {
            let f = try SafetensorsFile(path: directory + "/" + n)
            for name in f.tensors.keys {
                guard index[name] == nil else { throw .duplicate(path: f.path, name: name) }
                index[name] = files.count
            }
            files.append(f)
        }
        // Every tensor the index names must be in the shard it names: a wrong index would
        // otherwise surface later as a confusing missing weight, or not at all.
        for (tensor, shard) in expected.sorted(by: { $0.key < $1.key }) {
            guard let i = index[tensor], files[i].path == directory + "/" + shard else {
                throw .badHeader(path: indexPath, reason: "the index puts tensor '\(tensor)' in \(shard), which does not hold it")
            }
        }
        self.files = files
        self.index = index
    }

    public var tensorNames: [String] { index.keys.sorted() }

    public func tensor(_ name: String) throws(ModelFileError) -> (SafetensorsFile, SafetensorsFile.Tensor) {
        guard let i = index[name], let t = files[i].tensors[name] else { throw .missingTensor(path: directory, tensor: name) }
        return (files[i], t)
    }

    public func has(_ name: String) -> Bool { index[name] != nil }

    public var parameterCount: Int { files.reduce(0) { $0 + $1.tensors.values.reduce(0) { $0 + $1.elementCount } } }
    public var byteCount: Int { files.reduce(0) { $0 + $1.tensors.values.reduce(0) { $0 + ($1.end - $1.begin) } } }
}
