extension VocabularySpec {
    /// Reads the `tokenizer.ggml.*` metadata of a GGUF file (llama.cpp's vocabulary keys).
    public init(gguf f: GGUFFile) throws(ModelFileError) {
        let kind = try f.string("tokenizer.ggml.model")
        guard let model = Model(rawValue: kind) else {
            throw .badHeader(path: f.path, reason: "tokenizer model '\(kind)' is not supported (gpt2 and llama are)")
        }
        func id(_ key: String) -> Int32? { (try? f.int(key)).flatMap { Int32(exactly: $0) } }
        let tokens = try f.stringArray("tokenizer.ggml.tokens")
        self.init(
            model: model,
            tokens: tokens,
            tokenTypes: f.metadata["tokenizer.ggml.token_type"] == nil ? [] : try f.intArray("tokenizer.ggml.token_type").map { Int32(truncatingIfNeeded: $0) },
            scores: f.metadata["tokenizer.ggml.scores"] == nil ? [] : try f.floatArray("tokenizer.ggml.scores"),
            merges: f.metadata["tokenizer.ggml.merges"] == nil ? [] : try f.stringArray("tokenizer.ggml.merges"),
            bosID: id("tokenizer.ggml.bos_token_id"),
            eosID: id("tokenizer.ggml.eos_token_id"),
            unknownID: id("tokenizer.ggml.unknown_token_id"),
            paddingID: id("tokenizer.ggml.padding_token_id"),
            addBOS: f.bool("tokenizer.ggml.add_bos_token") ?? (model == .sentencePiece),
            addSpacePrefix: f.bool("tokenizer.ggml.add_space_prefix") ?? (model == .sentencePiece),
            preTokenizer: (try? f.string("tokenizer.ggml.pre")) ?? "default")
    }
}
