/// Model constructors keyed by `general.architecture`, as mlx-swift-lm keys by `model_type`.
public enum ModelRegistry {
    public typealias GGUFLoader = @Sendable (GGUFFile) throws(ModelFileError) -> any LanguageModel

    public static let gguf: [String: GGUFLoader] = [
        "llama": { f throws(ModelFileError) in try Llama.load(gguf: f) },
        "gemma3": { f throws(ModelFileError) in try Gemma3.load(gguf: f) },
        "qwen3": { f throws(ModelFileError) in try Qwen3.load(gguf: f) },
        "qwen3moe": { f throws(ModelFileError) in try Qwen3MoE.load(gguf: f) },
        "bailingmoe2": { f throws(ModelFileError) in try BailingMoeV2.load(gguf: f) },
    ]

    public typealias FolderLoader = @Sendable (String, LoadQuantization?) throws(ModelFileError) -> any LanguageModel

    /// Hugging Face folders, keyed by `architectures[0]` of config.json.
    public static let huggingFace: [String: FolderLoader] = [
        "BailingMoeV2ForCausalLM": { d, q throws(ModelFileError) in try BailingMoeV2.load(hf: d, quantization: q) },
        "Qwen3ForCausalLM": { d, q throws(ModelFileError) in try Qwen3.load(hf: d, quantization: q) },
        "Qwen3MoeForCausalLM": { d, q throws(ModelFileError) in try Qwen3MoE.load(hf: d, quantization: q) },
    ]

    /// Builds the model a Hugging Face folder describes.
    public static func load(huggingFace directory: String, quantization: LoadQuantization? = nil) throws(ModelFileError) -> any LanguageModel {
        guard let arch = HFConfig.architecture(directory: directory) else {
            throw .io(path: directory + "/config.json", reason: "missing or not JSON (a Hugging Face model folder needs config.json)")
        }
        guard let make = huggingFace[arch] else {
            throw .unknownArchitecture(path: directory, architecture: arch, known: huggingFace.keys.sorted())
        }
        return try make(directory, quantization)
    }

    /// Builds the model a GGUF file describes.
    public static func load(gguf f: GGUFFile) throws(ModelFileError) -> any LanguageModel {
        let arch = try f.string("general.architecture")
        guard let make = gguf[arch] else {
            throw .unknownArchitecture(path: f.path, architecture: arch, known: gguf.keys.sorted())
        }
        return try make(f)
    }
}
