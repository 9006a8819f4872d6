import Foundation

/// Loading Hugging Face `tokenizer.json` files for byte-level BPE models.
///
/// Added tokens map onto llama.cpp's scheme: `special: true` → CONTROL (parsed only with
/// `parseSpecial`), otherwise USER_DEFINED (always parsed). Their `lstrip`, `rstrip`,
/// `single_word` and `normalized` flags are ignored.
extension BPETokenizer {
    /// Loads `tokenizer.json`; BOS/EOS come from a sibling `tokenizer_config.json` when present,
    /// else from a `TemplateProcessing` post-processor that starts with a special token.
    public static func load(tokenizerJSON url: URL) throws(TokenizerError) -> BPETokenizer {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .fileNotFound(path: url.path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .fileNotFound(path: url.path) }
        let configURL = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        let config = try? Data(contentsOf: configURL)
        return try load(tokenizerJSON: data, config: config)
    }

    /// Loads from in-memory `tokenizer.json` (and optional `tokenizer_config.json`) contents.
    public static func load(tokenizerJSON data: Data, config: Data? = nil) throws(TokenizerError) -> BPETokenizer {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TokenizerError.malformedJSON("top level is not an object")
            }
            root = object
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw .malformedJSON(error.localizedDescription)
        }
        guard let model = root["model"] as? [String: Any] else { throw .malformedJSON("missing \"model\"") }
        let type = model["type"] as? String ?? (model["merges"] != nil ? "BPE" : "unknown")
        guard type == "BPE" else { throw .unsupportedModelType(type) }
        if model["byte_fallback"] as? Bool == true {
            throw .unsupportedModelType("BPE with byte_fallback (SentencePiece-style; load it from GGUF)")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key] as? String, !affix.isEmpty {
                throw .unsupportedModelType("BPE with \(key) '\(affix)'")
            }
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw .malformedJSON("missing \"model.vocab\"") }

        var tokens: [String] = []
        var types: [Int32] = []
        func place(_ text: String, _ id: Int, _ type: TokenType) throws(TokenizerError) {
            guard id >= 0 && id < 1 << 24 else { throw .malformedJSON("token id \(id) out of range") }
            if id >= tokens.count {
                tokens += Array(repeating: "", count: id + 1 - tokens.count)
                types += Array(repeating: TokenType.unused.rawValue, count: id + 1 - types.count)
            }
            tokens[id] = text
            types[id] = type.rawValue
        }
        for (text, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue else { throw .malformedJSON("vocab id for \(text) is not a number") }
            try place(text, id, .normal)
        }
        for case let added as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            guard let id = (added["id"] as? NSNumber)?.intValue, let content = added["content"] as? String else {
                throw .malformedJSON("added token without id/content")
            }
            try place(content, id, added["special"] as? Bool == true ? .control : .userDefined)
        }

        var merges: [(String, String)] = []
        for entry in model["merges"] as? [Any] ?? [] {
            if let text = entry as? String {
                // By bytes: a space before a combining mark is one Swift Character.
                let utf8 = Array(text.utf8)
                guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else { throw .malformedJSON("merge '\(text)' has no space") }
                merges.append((String(decoding: utf8[..<space], as: UTF8.self), String(decoding: utf8[(space + 1)...], as: UTF8.self)))
            } else if let pair = entry as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw .malformedJSON("merge entry is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        var parsed = ParsedPreTokenizer()
        try parsed.add(root["pre_tokenizer"])
        let decoderIsByteLevel = Self.mentionsByteLevel(root["decoder"])
        guard parsed.sawByteLevel || decoderIsByteLevel else {
            throw .unsupportedModelType("BPE without ByteLevel pre-tokenizer or decoder")
        }
        let normalization = try Self.normalization(root["normalizer"])

        let spec = VocabularySpec(model: .bpe, tokens: tokens, tokenTypes: types)
        var bosID: Int32?
        var eosID: Int32?
        var addBOS = false
        if let (bos, add) = Self.templateBOS(root["post_processor"], tokens) {
            bosID = bos
            addBOS = add
        }
        if let config, let settings = try? JSONSerialization.jsonObject(with: config) as? [String: Any] {
            func tokenID(_ key: String) -> Int32? {
                let value = settings[key]
                let text = value as? String ?? (value as? [String: Any])?["content"] as? String
                return text.flatMap { t in tokens.firstIndex(of: t).map(Int32.init) }
            }
            bosID = tokenID("bos_token") ?? bosID
            eosID = tokenID("eos_token")
            if let add = settings["add_bos_token"] as? Bool { addBOS = add }
        }
        var finalSpec = spec
        finalSpec.bosID = bosID
        finalSpec.eosID = eosID
        finalSpec.addBOS = addBOS && bosID != nil
        return try BPETokenizer(
            spec: finalSpec, mergePairs: merges,
            preTokenizer: PreTokenizer(steps: parsed.steps, addPrefixSpace: parsed.addPrefixSpace),
            ignoreMerges: model["ignore_merges"] as? Bool ?? false,
            normalization: normalization)
    }

    /// Accumulates `pre_tokenizer` steps, flattening `Sequence`.
    private struct ParsedPreTokenizer {
        var steps: [PreTokenizer.Step] = []
        var addPrefixSpace = false
        var sawByteLevel = false

        mutating func add(_ node: Any?) throws(TokenizerError) {
            guard let node = node as? [String: Any] else { return }
            let type = node["type"] as? String ?? "?"
            switch type {
            case "Sequence":
                for child in node["pretokenizers"] as? [Any] ?? [] { try add(child) }
            case "ByteLevel":
                sawByteLevel = true
                if node["add_prefix_space"] as? Bool ?? true {
                    // Prefixing per piece after other splits would need new text; only the
                    // leading position is equivalent to prefixing the whole fragment.
                    guard steps.isEmpty else {
                        throw .unsupportedPreTokenizer("ByteLevel(add_prefix_space: true) after other pre-tokenizers")
                    }
                    addPrefixSpace = true
                }
                if node["use_regex"] as? Bool ?? true { steps.append(.init(rule: .gpt2)) }
            case "Digits":
                let individual = node["individual_digits"] as? Bool ?? false
                steps.append(.init(rule: .digits, behavior: individual ? .isolated : .contiguous))
            case "Split":
                let pattern = node["pattern"] as? [String: Any]
                let rule: PreTokenizer.Rule
                if let regex = pattern?["Regex"] as? String {
                    rule = try PreTokenizer.rule(forPattern: regex)
                } else if let literal = pattern?["String"] as? String {
                    rule = .regex(try RegexSplitter(pattern: NSRegularExpression.escapedPattern(for: literal)))
                } else {
                    throw .unsupportedPreTokenizer("Split without Regex/String pattern")
                }
                let name = node["behavior"] as? String ?? "Isolated"
                guard let behavior = PreTokenizer.Behavior(rawValue: name) else {
                    throw .unsupportedPreTokenizer("Split behavior '\(name)'")
                }
                steps.append(.init(rule: rule, behavior: behavior, invert: node["invert"] as? Bool ?? false))
            default:
                throw .unsupportedPreTokenizer("tokenizer.json pre_tokenizer type '\(type)'")
            }
        }
    }

    private static func mentionsByteLevel(_ node: Any?) -> Bool {
        guard let node = node as? [String: Any] else { return false }
        if node["type"] as? String == "ByteLevel" { return true }
        return (node["decoders"] as? [Any] ?? []).contains { mentionsByteLevel($0) }
    }

    private static func normalization(_ node: Any?) throws(TokenizerError) -> Normalization {
        guard let node = node as? [String: Any] else { return .none }
        switch node["type"] as? String ?? "?" {
        case "NFC": return .nfc
        case "NFKC": return .nfkc
        case "Sequence":
            let parts = node["normalizers"] as? [Any] ?? []
            var result = Normalization.none
            for part in parts {
                let one = try normalization(part)
                if one != .none {
                    guard result == .none else { throw .unsupportedNormalizer("more than one Unicode normalization") }
                    result = one
                }
            }
            return result
        case let other:
            throw .unsupportedNormalizer("'\(other)'")
        }
    }

    /// BOS from a `TemplateProcessing` whose single-sequence template starts with a special token.
    private static func templateBOS(_ node: Any?, _ tokens: [String]) -> (Int32, Bool)? {
        guard let node = node as? [String: Any] else { return nil }
        if node["type"] as? String == "Sequence" {
            for child in node["processors"] as? [Any] ?? [] {
                if let found = templateBOS(child, tokens) { return found }
            }
            return nil
        }
        guard node["type"] as? String == "TemplateProcessing",
              let single = node["single"] as? [Any],
              let first = single.first as? [String: Any],
              let special = first["SpecialToken"] as? [String: Any],
              let name = special["id"] as? String,
              let index = tokens.firstIndex(of: name) else { return nil }
        return (Int32(index), true)
    }
}
