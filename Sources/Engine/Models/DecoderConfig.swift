/// The config.json keys every decoder architecture here has. An architecture's config is
/// these plus its own keys (`ArchitectureConfig`), both decoded from the same file.
struct DecoderConfig: Codable, Sendable {
    var hiddenSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    /// The dense feed-forward width (0 where every layer has experts).
    var intermediateSize: Int
    var rmsNormEps: Float?
    var ropeTheta: Double?
    var maxPositionEmbeddings: Int?
    var vocabSize: Int
    var tieWordEmbeddings: Bool?

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", intermediateSize = "intermediate_size"
        case rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta", maxPositionEmbeddings = "max_position_embeddings"
        case vocabSize = "vocab_size", tieWordEmbeddings = "tie_word_embeddings"
    }

    var kvHeads: Int { numKeyValueHeads ?? numAttentionHeads }
    var resolvedHeadDim: Int { headDim ?? hiddenSize / max(numAttentionHeads, 1) }
    var eps: Float { rmsNormEps ?? 1e-6 }
    /// The LM head is the embedding even if the checkpoint has an `lm_head`.
    var tiesEmbeddings: Bool { tieWordEmbeddings ?? false }

    /// Throws unless the attention geometry and sizes are usable; `name` goes into the message.
    func validate(path: String, name: String, ropeDims: Int? = nil) throws(ModelFileError) {
        guard hiddenSize > 0, numHiddenLayers > 0, numAttentionHeads > 0, kvHeads > 0, numAttentionHeads % kvHeads == 0,
              resolvedHeadDim > 0, resolvedHeadDim % 2 == 0, (ropeDims ?? 0) <= resolvedHeadDim, (ropeDims ?? 0) % 2 == 0,
              intermediateSize >= 0, vocabSize > 0
        else { throw .badHeader(path: path, reason: "inconsistent \(name) hyperparameters") }
    }
}

/// The keys only one architecture has, and its defaults.
protocol ArchitectureKeys: Codable, Sendable {
    /// Context length when `max_position_embeddings` is absent.
    static var defaultContextLength: Int { get }
}

/// An architecture's config: the shared keys and its own, read from one config.json (or one
/// GGUF header through `GGUFConfig`). Both kinds of key read as properties of the config.
@dynamicMemberLookup
struct ArchitectureConfig<Keys: ArchitectureKeys>: Codable, Sendable {
    var decoder: DecoderConfig
    var keys: Keys

    init(from d: any Decoder) throws {
        decoder = try DecoderConfig(from: d)
        keys = try Keys(from: d)
    }

    func encode(to e: any Encoder) throws {
        try decoder.encode(to: e)
        try keys.encode(to: e)
    }

    subscript<T>(dynamicMember path: KeyPath<DecoderConfig, T>) -> T { decoder[keyPath: path] }
    subscript<T>(dynamicMember path: KeyPath<Keys, T>) -> T { keys[keyPath: path] }
    subscript<T>(dynamicMember path: WritableKeyPath<Keys, T>) -> T {
        get { keys[keyPath: path] }
        set { keys[keyPath: path] = newValue }
    }

    var contextLength: Int { decoder.maxPositionEmbeddings ?? Keys.defaultContextLength }
}
