import Foundation

/// Reads a Hugging Face `config.json` into an architecture's Codable config, naming the file
/// and the problem when it does not fit.
enum HFConfig {
    static func load<C: Decodable>(_ type: C.Type, directory: String) throws(ModelFileError) -> C {
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot read config.json") }
        do {
            return try JSONDecoder().decode(C.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingKey(path: path, key: key.stringValue)
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw .wrongKeyType(path: path, key: ctx.codingPath.map(\.stringValue).joined(separator: "."), expected: "\(ctx.debugDescription)")
        } catch {
            throw .badHeader(path: path, reason: "config.json: \(error)")
        }
    }

    /// `architectures[0]` of a config.json, or nil.
    static func architecture(directory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: directory + "/config.json"),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (obj["architectures"] as? [String])?.first ?? obj["model_type"] as? String
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
