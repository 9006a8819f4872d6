extension VocabularySpec {
    /// Reads the `tokenizer.ggml.*` metadata of a GGUF file (llama.cpp's vocabulary keys).
    public init(gguf f: GGUFFile) throws(ModelFileError) {
        let kind = try f.string("tokenizer.ggml.model")
        // Gemma 4's "gemma4" is BPE over UTF-8 characters, which llama.cpp runs as pre-tokenizer "gemma4".
        guard let model = kind == "gemma4" ? .bpe : Model(rawValue: kind) else {
            throw .badHeader(path: f.path, reason: "tokenizer model '\(kind)' is not supported (gpt2, llama, bert and gemma4 are)")
        }
        func id(_ key: String) -> Int32? { (try? f.int(key)).flatMap { Int32(exactly: $0) } }
        let tokens = try f.stringArray("tokenizer.ggml.tokens")
        self.init(
            model: model,
            tokens: tokens,
            tokenTypes: f.metadata["tokenizer.ggml.token_type"] == nil ? [] : try f.intArray("tokenizer.ggml.token_type").map { Int32(truncatingIfNeeded: $0) },
            scores: f.metadata["tokenizer.ggml.scores"] == nil ? [] : try f.floatArray("tokenizer.ggml.scores"),
            merges: f.metadata["tokenizer.ggml.merges"] == nil ? [] : try f.stringArray("tokenizer.ggml.merges"),
            // WordPiece frames text with CLS and SEP where others use BOS and EOS.
            bosID: id("tokenizer.ggml.bos_token_id") ?? (model == .wordPiece ? id("tokenizer.ggml.cls_token_id") : nil),
            eosID: id("tokenizer.ggml.eos_token_id") ?? (model == .wordPiece ? id("tokenizer.ggml.seperator_token_id") : nil),
            unknownID: id("tokenizer.ggml.unknown_token_id"),
            paddingID: id("tokenizer.ggml.padding_token_id"),
            addBOS: kind == "gemma4" ? true : f.bool("tokenizer.ggml.add_bos_token") ?? (model != .bpe || Self.llamaAddsBOS(f)),
            addEOS: f.bool("tokenizer.ggml.add_eos_token") ?? (model == .wordPiece),
            addSpacePrefix: f.bool("tokenizer.ggml.add_space_prefix") ?? (model == .sentencePiece),
            preTokenizer: kind == "gemma4" ? "gemma4" : (try? f.string("tokenizer.ggml.pre")) ?? "default")
        lowercase = f.bool("tokenizer.ggml.normalizer.lowercase")
        stripAccents = f.bool("tokenizer.ggml.normalizer.strip_accents")
    }

    /// llama.cpp's BPE default for `add_bos` when the file does not say (llama3 and tekken
    /// families, chameleon).
    private static func llamaAddsBOS(_ f: GGUFFile) -> Bool {
        let pre = (try? f.string("tokenizer.ggml.pre")) ?? ""
        return ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
                "tekken", "chameleon"].contains(pre)
    }
}
