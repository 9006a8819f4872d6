/// Weights from a Hugging Face folder of safetensors, used in place (bf16, f16 and f32 are
/// computed with directly).
struct SafetensorsWeights: WeightSource {
    let model: SafetensorsModel
    /// Matrices are converted to this on load (vectors, the embedding and routers stay as they are).
    let quantization: LoadQuantization?
    /// Vectors converted to fp32 and quantized matrices, kept alive with the model.
    private(set) var owned: [FloatBuffer] = []

    init(_ model: SafetensorsModel, quantization: LoadQuantization? = nil) {
        self.model = model
        self.quantization = quantization
    }

    var path: String { model.directory }
    func has(_ name: String) -> Bool { model.has(name) }

    mutating func matrix(_ name: String, rows: Int, cols: Int) throws(ModelFileError) -> WeightMatrix {
        let (file, t) = try model.tensor(name)
        guard t.shape == [rows, cols] else {
            throw .badShape(path: file.path, tensor: name, reason: "expected [\(rows), \(cols)], found \(t.shape)")
        }
        guard let type = t.ggmlType else { throw .unsupportedTensorType(path: file.path, tensor: name, type: t.dtype) }
        let m = WeightMatrix(type: type, data: file.data(t), rows: rows, cols: cols)
        // Embeddings are looked up row by row, not multiplied; they stay exact.
        // Routers stay fp32 (router_dtype), as the checkpoint asks.
        guard let q = quantization, cols % 32 == 0, !name.contains("embed"), !name.hasSuffix("mlp.gate.weight") else { return m }
        var kept: [FloatBuffer] = []
        let out = LoadQuantization.quantize(m, as: q) { kept.append($0) }
        owned += kept
        return out
    }

    mutating func vector(_ name: String, count: Int) throws(ModelFileError) -> UnsafePointer<Float> {
        let (file, t) = try model.tensor(name)
        guard t.elementCount == count else {
            throw .badShape(path: file.path, tensor: name, reason: "expected \(count) values, found \(t.shape)")
        }
        guard let type = t.ggmlType else { throw .unsupportedTensorType(path: file.path, tensor: name, type: t.dtype) }
        if type == .f32 { return file.data(t).assumingMemoryBound(to: Float.self) }
        let buf = FloatBuffer(count: count)
        WeightMatrix(type: type, data: file.data(t), rows: 1, cols: count).dequantizeRow(0, into: buf.pointer)
        owned.append(buf)
        return UnsafePointer(buf.pointer)
    }

    mutating func keepAlive(_ b: FloatBuffer) { owned.append(b) }
}
