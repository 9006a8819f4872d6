import Foundation
import Jinja

/// A model's tokenizer and chat template, read without its weights: a GGUF file (with or
/// without tensors, like llama.cpp's vocabulary-only files) or a Hugging Face folder
/// (tokenizer.json, tokenizer_config.json).
public struct ModelVocabulary: Sendable {
    public let tokenizer: any Tokenizer
    /// The template source, nil when the model has none.
    public let chatTemplate: String?
    /// The text of BOS and EOS as templates see them (`bos_token`, `eos_token`).
    public let bosToken: String?
    public let eosToken: String?

    public init(path: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            let tokenizer = try BPETokenizer.load(tokenizerJSON: URL(fileURLWithPath: path + "/tokenizer.json"))
            let config = (FileManager.default.contents(atPath: path + "/tokenizer_config.json"))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            func special(_ key: String) -> String? {
                if let s = config[key] as? String { return s }
                return (config[key] as? [String: Any])?["content"] as? String
            }
            self.tokenizer = tokenizer
            chatTemplate = config["chat_template"] as? String
            bosToken = special("bos_token") ?? tokenizer.bosID.flatMap { tokenizer.tokenText($0) }
            eosToken = special("eos_token") ?? tokenizer.eosID.flatMap { tokenizer.tokenText($0) }
        } else {
            let file = try GGUFFile(path: path)
            let tokenizer = try VocabularySpec(gguf: file).makeTokenizer()
            self.tokenizer = tokenizer
            if let source = try? file.string("tokenizer.chat_template") {
                chatTemplate = source
            } else if (try? file.string("general.architecture")) == "gemma3" {
                chatTemplate = ChatTemplate.gemma3Source
            } else {
                chatTemplate = nil
            }
            bosToken = tokenizer.bosID.flatMap { tokenizer.tokenText($0) }
            eosToken = tokenizer.eosID.flatMap { tokenizer.tokenText($0) }
        }
    }
}
