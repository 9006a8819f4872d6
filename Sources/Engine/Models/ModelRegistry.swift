/// Model constructors keyed by `general.architecture`, as mlx-swift-lm keys by `model_type`.
public enum ModelRegistry {
    public typealias GGUFLoader = @Sendable (GGUFFile) throws(ModelFileError) -> any LanguageModel

    public static let gguf: [String: GGUFLoader] = [
        "llama": { f throws(ModelFileError) in try LlamaModel(gguf: f) },
        "gemma3": { f throws(ModelFileError) in try Gemma3Model(gguf: f) },
    ]

    /// Builds the model a GGUF file describes.
    public static func load(gguf f: GGUFFile) throws(ModelFileError) -> any LanguageModel {
        let arch = try f.string("general.architecture")
        guard let make = gguf[arch] else {
            throw .unknownArchitecture(path: f.path, architecture: arch, known: gguf.keys.sorted())
        }
        return try make(f)
    }
}
