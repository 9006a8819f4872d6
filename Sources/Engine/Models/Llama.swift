/// Llama (SmolLM2, Llama 2 and 3 as llama.cpp converts them): the plain pre-norm decoder,
/// read from GGUF (`general.architecture = llama`).
///
/// GGUF llama files store Q and K rows permuted for adjacent-pair RoPE, so rotation is
/// `.interleaved` on the rows as stored (MODELS.md 3.2).
struct LlamaKeys: ArchitectureKeys {
    /// Rotated dimensions per head: GGUF's `rope.dimension_count`, which config.json lacks.
    var ropeDimensionCount: Int?

    enum CodingKeys: String, CodingKey {
        case ropeDimensionCount = "rope_dimension_count"
    }

    static let defaultContextLength = 2048
}

typealias LlamaConfig = ArchitectureConfig<LlamaKeys>

enum Llama {
    static func load(gguf f: GGUFFile) throws(ModelFileError) -> DecoderModel {
        let c = try GGUFConfig.load(LlamaConfig.self, gguf: f, arch: "llama")
        let ropeDims = c.ropeDimensionCount ?? c.resolvedHeadDim
        try c.decoder.validate(path: f.path, name: "llama", ropeDims: ropeDims)
        var w = GGUFWeights(f)
        let spec = DecoderSpec(c, architecture: "llama", name: (try? f.string("general.name")) ?? "llama", size: f.sizes,
                               rope: RoPE(style: .interleaved, dims: ropeDims, base: c.ropeTheta ?? 10000))
        return try DecoderModel.load(c, spec, weights: &w, names: .gguf())
    }
}
