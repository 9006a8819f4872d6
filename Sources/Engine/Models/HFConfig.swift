import Foundation

/// Reads a Hugging Face `config.json` into an architecture's Codable config, naming the file
/// and the problem when it does not fit.
enum HFConfig {
    static func load<C: Decodable>(_ type: C.Type, directory: String) throws(ModelFileError) -> C {
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot read config.json") }
        return try decode(C.self, from: data, path: path, label: "config.json")
    }

    /// Decodes `data`; errors name `path` and the key as `keyName` spells it for the user.
    static func decode<C: Decodable>(_ type: C.Type, from data: Data, path: String, label: String,
                                     keyName: (String) -> String = { $0 }) throws(ModelFileError) -> C {
        do {
            return try JSONDecoder().decode(C.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw .missingKey(path: path, key: keyName(key.stringValue))
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw .wrongKeyType(path: path, key: ctx.codingPath.map { keyName($0.stringValue) }.joined(separator: "."), expected: "\(ctx.debugDescription)")
        } catch {
            throw .badHeader(path: path, reason: "\(label): \(error)")
        }
    }

    /// `architectures[0]` of a config.json, or nil.
    static func architecture(directory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: directory + "/config.json"),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return (obj["architectures"] as? [String])?.first ?? obj["model_type"] as? String
    }
}
