/// Everything needed to serve one model: the network, its tokenizer, its chat template and
/// the tokens that end a turn.
public final class LoadedModel: Sendable {
    public let path: String
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    /// nil when the file has no template and none is built in for its architecture.
    public let chatTemplate: ChatTemplate?
    /// End-of-generation tokens: EOS, end-of-turn and their kin (llama.cpp's EOG set).
    public let stopTokens: Set<Int32>

    /// Texts that end a turn in the vocabularies we know, matched only as control tokens.
    static let endOfTurnTexts = ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<end_of_turn>",
                                 "<|end|>", "<|return|>", "<|eom_id|>"]

    public init(path: String) throws {
        self.path = path
        let file = try GGUFFile(path: path)
        model = try ModelRegistry.load(gguf: file)
        tokenizer = try VocabularySpec(gguf: file).makeTokenizer()
        let arch = model.info.architecture
        if let source = try? file.string("tokenizer.chat_template") {
            chatTemplate = try ChatTemplate(source)
        } else if arch == "gemma3" {
            // The Gemma 3 GGUF we ship carries no template; its tokenizer_config.json has this one.
            chatTemplate = try ChatTemplate(ChatTemplate.gemma3Source)
        } else {
            chatTemplate = nil
        }
        var stops = Set<Int32>()
        if let eos = tokenizer.eosID { stops.insert(eos) }
        if let eot = try? file.int("tokenizer.ggml.eot_token_id") { stops.insert(Int32(eot)) }
        for text in Self.endOfTurnTexts {
            if let id = tokenizer.id(of: text), tokenizer.isControl(id) { stops.insert(id) }
        }
        stopTokens = stops
    }

    /// Renders `messages` through the chat template (with the generation prompt) and
    /// tokenizes the result with special tokens parsed.
    public func chatPrompt(_ messages: [ChatMessage]) throws -> [Int32] {
        guard let template = chatTemplate else { throw ChatTemplateError.unsupported("this model has no chat template") }
        let bos = tokenizer.bosID.flatMap { tokenizer.tokenText($0) }
        let eos = tokenizer.eosID.flatMap { tokenizer.tokenText($0) }
        let text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
        return tokenizer.encode(text, addBOS: false, parseSpecial: true)
    }

    /// Tokenizes a raw prompt, adding BOS when the model asks for it.
    public func rawPrompt(_ text: String) -> [Int32] {
        tokenizer.encode(text, addBOS: nil, parseSpecial: false)
    }
}
