/// Looks weights up in a GGUF file by name and checks their shapes, so a file with the right
/// names but the wrong sizes fails at load with a message instead of reading out of bounds.
struct GGUFWeights: WeightSource {
    let file: GGUFFile
    /// Vectors that had to be converted to fp32 (norm weights stored as F16, say).
    private(set) var owned: [FloatBuffer] = []

    init(_ file: GGUFFile) { self.file = file }

    var path: String { file.path }
    func has(_ name: String) -> Bool { file.tensors[name] != nil }
    mutating func keepAlive(_ b: FloatBuffer) { owned.append(b) }

    /// A matrix of `rows` x `cols` (ggml shape [cols, rows]).
    mutating func matrix(_ name: String, rows: Int, cols: Int) throws(ModelFileError) -> WeightMatrix {
        let t = try file.tensor(name)
        guard t.shape.count == 2, t.shape[0] == cols, t.shape[1] == rows else {
            throw .badShape(path: file.path, tensor: name, reason: "expected [\(cols), \(rows)], found \(t.shape)")
        }
        guard t.type.isComputable else {
            throw .unsupportedTensorType(path: file.path, tensor: name, type: t.type.name)
        }
        let m = WeightMatrix(type: t.type, data: file.tensorData(t), rows: rows, cols: cols)
        // Read once for the copy: the file's pages need not stay resident beside it.
        let map = file.file
        return m.interleavedCopy(keep: { owned.append($0) }, done: { map.dropPages($0, count: $1) }) ?? m
    }

    /// A vector of `count` floats, used in place when stored as F32.
    mutating func vector(_ name: String, count: Int) throws(ModelFileError) -> UnsafePointer<Float> {
        let t = try file.tensor(name)
        guard t.elementCount == count else {
            throw .badShape(path: file.path, tensor: name, reason: "expected \(count) values, found \(t.shape)")
        }
        if t.type == .f32 {
            return file.tensorData(t).assumingMemoryBound(to: Float.self)
        }
        guard t.type.isComputable else {
            throw .unsupportedTensorType(path: file.path, tensor: name, type: t.type.name)
        }
        let buf = FloatBuffer(count: count)
        WeightMatrix(type: t.type, data: file.tensorData(t), rows: 1, cols: count).dequantizeRow(0, into: buf.pointer)
        owned.append(buf)
        return UnsafePointer(buf.pointer)
    }
}

extension GGUFWeights {
    /// The per-expert matrices of a stacked expert tensor (ggml shape [cols, rows, experts]).
    mutating func experts(_ name: String, count: Int, rows: Int, cols: Int) throws(ModelFileError) -> [WeightMatrix] {
        let t = try file.tensor(name)
        guard t.shape.count == 3, t.shape[0] == cols, t.shape[1] == rows, t.shape[2] == count else {
            throw .badShape(path: file.path, tensor: name, reason: "expected [\(cols), \(rows), \(count)], found \(t.shape)")
        }
        guard t.type.isComputable else { throw .unsupportedTensorType(path: file.path, tensor: name, type: t.type.name) }
        let base = file.tensorData(t)
        let one = WeightMatrix(type: t.type, data: base, rows: rows, cols: cols)
        return (0 ..< count).map { WeightMatrix(type: t.type, data: base + $0 * rows * one.rowBytes, rows: rows, cols: cols) }
    }
}

extension GGUFFile {
    /// Parameters and bytes of all tensors.
    var sizes: (params: Int, bytes: Int) {
        (tensors.values.reduce(0) { $0 + $1.elementCount }, tensors.values.reduce(0) { $0 + $1.byteCount })
    }
}
