import Foundation
import Jinja

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
    /// How a chat answer's reasoning is marked, for thinking models: forced when the template's
    /// generation prompt already opens `<think>` (Ring), optional when the vocabulary merely
    /// knows the tag (Qwen3); nil for models that do not think.
    public let reasoningStyle: ReasoningParser.Style?

    /// Texts that end a turn in the vocabularies we know, matched only as control tokens.
    static let endOfTurnTexts = ["<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<end_of_turn>",
                                 "<|end|>", "<|return|>", "<|eom_id|>"]

    /// Internal rather than private: tests serve a scripted network under a real tokenizer.
    init(path: String, model: any LanguageModel, tokenizer: any Tokenizer, chatTemplate: ChatTemplate?, stopTokens: Set<Int32>) {
        self.path = path
        self.model = model
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.stopTokens = stopTokens
        let probe = try? chatTemplate?.render(messages: [ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true,
                                               bosToken: nil, eosToken: nil)
        if let p = probe, p.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("<think>") {
            reasoningStyle = .forced
        } else if tokenizer.id(of: "<think>") != nil && tokenizer.id(of: "</think>") != nil {
            reasoningStyle = .optional
        } else {
            reasoningStyle = nil
        }
    }

    /// A GGUF file, or a Hugging Face model folder (optionally quantized as it loads; GGUF
    /// files are used as stored).
    public convenience init(path: String, quantization: LoadQuantization? = nil) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            try self.init(huggingFace: path, quantization: quantization)
        } else {
            try self.init(gguf: path)
        }
    }

    private convenience init(gguf path: String) throws {
        let file = try GGUFFile(path: path)
        let model = try ModelRegistry.load(gguf: file)
        let tokenizer = try VocabularySpec(gguf: file).makeTokenizer()
        let template: ChatTemplate?
        if let source = try? file.string("tokenizer.chat_template") {
            template = try ChatTemplate(source)
        } else if model.info.architecture == "gemma3" {
            // The Gemma 3 GGUF we ship carries no template; its tokenizer_config.json has this one.
            template = try ChatTemplate(ChatTemplate.gemma3Source)
        } else {
            template = nil
        }
        var stops = Self.stops(tokenizer)
        if let eot = try? file.int("tokenizer.ggml.eot_token_id") { stops.insert(Int32(eot)) }
        self.init(path: path, model: model, tokenizer: tokenizer, chatTemplate: template, stopTokens: stops)
    }

    /// A Hugging Face model folder: config.json, safetensors, tokenizer.json and the chat
    /// template and special tokens of tokenizer_config.json.
    private convenience init(huggingFace directory: String, quantization: LoadQuantization?) throws {
        let model = try ModelRegistry.load(huggingFace: directory, quantization: quantization)
        let tokenizer = try BPETokenizer.load(tokenizerJSON: URL(fileURLWithPath: directory + "/tokenizer.json"))
        let template = try (Self.json(directory + "/tokenizer_config.json")?["chat_template"] as? String).map { try ChatTemplate($0) }
        var stops = Self.stops(tokenizer)
        // generation_config.json's eos_token_id may be one id or a list.
        if let gen = Self.json(directory + "/generation_config.json") {
            if let one = gen["eos_token_id"] as? Int { stops.insert(Int32(one)) }
            for id in gen["eos_token_id"] as? [Int] ?? [] { stops.insert(Int32(id)) }
        }
        self.init(path: directory, model: model, tokenizer: tokenizer, chatTemplate: template, stopTokens: stops)
    }

    /// EOS and the end-of-turn control tokens the vocabulary has.
    private static func stops(_ tokenizer: any Tokenizer) -> Set<Int32> {
        var stops = Set<Int32>()
        if let eos = tokenizer.eosID { stops.insert(eos) }
        for text in endOfTurnTexts {
            if let id = tokenizer.id(of: text), tokenizer.isControl(id) { stops.insert(id) }
        }
        return stops
    }

    private static func json(_ path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
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
