/// Where a model's weights come from: a GGUF file or a Hugging Face safetensors folder. Each
/// architecture asks for tensors by name and shape; the source checks both, so a file with the
/// right names but wrong sizes fails at load with a message instead of reading out of bounds.
protocol WeightSource {
    var path: String { get }
    func has(_ name: String) -> Bool
    /// A matrix of `rows` x `cols` (nn.Linear's [out, in]).
    mutating func matrix(_ name: String, rows: Int, cols: Int) throws(ModelFileError) -> WeightMatrix
    /// A vector of `count` floats.
    mutating func vector(_ name: String, count: Int) throws(ModelFileError) -> UnsafePointer<Float>
    /// Holds a converted copy for as long as the source (and so the model) lives.
    mutating func keepAlive(_ b: FloatBuffer)
}

extension WeightSource {
    /// The vector `name` names, or nil when the architecture has no such tensor.
    mutating func optionalVector(_ name: String?, count: Int) throws(ModelFileError) -> UnsafePointer<Float>? {
        guard let name else { return nil }
        return try vector(name, count: count)
    }

    mutating func optionalMatrix(_ name: String, rows: Int, cols: Int) throws(ModelFileError) -> WeightMatrix? {
        has(name) ? try matrix(name, rows: rows, cols: cols) : nil
    }

    /// A matrix as fp32 rows (routers compute in fp32 whatever the checkpoint stores).
    mutating func floatMatrix(_ name: String, rows: Int, cols: Int) throws(ModelFileError) -> UnsafePointer<Float> {
        let m = try matrix(name, rows: rows, cols: cols)
        if m.type == .f32 { return m.data.assumingMemoryBound(to: Float.self) }
        let buf = FloatBuffer(count: rows * cols)
        for r in 0 ..< rows { m.dequantizeRow(r, into: buf.pointer + r * cols) }
        keepAlive(buf)
        return UnsafePointer(buf.pointer)
    }

}
