/// llama.cpp `llama_token_type`, as stored in GGUF `tokenizer.ggml.token_type`.
public enum TokenType: Int32, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Matched in input text only when the caller asks for special-token parsing.
    case control = 3
    /// Always matched verbatim in input text (e.g. Gemma's `"\n"`, `"<table>"`).
    case userDefined = 4
    case unused = 5
    /// SentencePiece byte-fallback token `<0xXX>`.
    case byte = 6

    /// Values outside the enum decode as `.undefined`, like llama.cpp does.
    init(raw: Int32) { self = TokenType(rawValue: raw) ?? .undefined }
}

/// Text ⇄ token ids for one model vocabulary.
///
/// Conformers are immutable after construction and safe to share across tasks.
public protocol Tokenizer: Sendable {
    /// Token ids for `text`. Never prepends BOS: check `addBOS` and do it yourself, since
    /// chat templates often already contain a BOS marker.
    ///
    /// - Parameter parseSpecial: when true, CONTROL tokens written in the text (e.g.
    ///   `<|im_start|>`) become their ids; when false they are tokenized as plain text.
    ///   USER_DEFINED tokens are matched either way.
    func encode(_ text: String, parseSpecial: Bool) -> [Int32]

    /// Text for `ids`; invalid UTF-8 becomes U+FFFD and out-of-range ids become U+FFFD.
    /// - Parameter skipSpecial: drop CONTROL/UNKNOWN tokens instead of printing their text.
    func decode(_ ids: [Int32], skipSpecial: Bool) -> String

    /// The bytes the token contributes to decoded output: byte-level / `▁` mapping undone,
    /// `<0xXX>` turned into its byte, CONTROL/UNKNOWN/USER_DEFINED give their text,
    /// UNUSED/UNDEFINED give nothing (llama.cpp `token_to_piece`). Empty if out of range.
    func tokenBytes(_ id: Int32) -> [UInt8]

    /// The token's type, or nil if `id` is out of range.
    func tokenType(_ id: Int32) -> TokenType?

    /// True when `id` is a CONTROL token (e.g. `<|im_end|>`, `<end_of_turn>`).
    func isControl(_ id: Int32) -> Bool

    /// The vocabulary string exactly as stored (byte-level or `▁` form), or nil if out of range.
    func tokenText(_ id: Int32) -> String?

    /// Exact vocabulary lookup of a stored token string, e.g. `id(of: "<|im_end|>")`.
    func id(of token: String) -> Int32?

    var vocabularySize: Int { get }
    var bosID: Int32? { get }
    var eosID: Int32? { get }
    /// Whether the model expects BOS in front of a prompt (GGUF `add_bos_token`).
    var addBOS: Bool { get }
    /// Whether the model expects EOS after a prompt (GGUF `add_eos_token`).
    var addEOS: Bool { get }
    /// SentencePiece models with `add_space_prefix` drop one leading space of the first piece.
    var stripsLeadingSpaceOnDecode: Bool { get }
}

extension Tokenizer {
    public var addEOS: Bool { false }

    /// llama.cpp's `llama_tokenize(add_special: true)`: BOS and EOS as the vocabulary asks.
    public func encodeAddingSpecial(_ text: String, parseSpecial: Bool) -> [Int32] {
        var ids = encode(text, addBOS: nil, parseSpecial: parseSpecial)
        if addEOS, let eos = eosID { ids.append(eos) }
        return ids
    }

    public func isControl(_ id: Int32) -> Bool { tokenType(id) == .control }

    /// `encode` with an optional BOS in front, following `addBOS` when `addBOS` is nil.
    public func encode(_ text: String, addBOS: Bool?, parseSpecial: Bool) -> [Int32] {
        var ids: [Int32] = []
        if addBOS ?? self.addBOS, let bos = bosID { ids.append(bos) }
        ids += encode(text, parseSpecial: parseSpecial)
        return ids
    }

    public func decode(_ ids: [Int32], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for (index, id) in ids.enumerated() {
            appendDecodedPiece(id, skipSpecial: skipSpecial, isFirst: index == 0, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One token's share of `decode` output; shared with `IncrementalDetokenizer` so that
    /// streaming and whole-sequence decoding agree byte for byte.
    func appendDecodedPiece(_ id: Int32, skipSpecial: Bool, isFirst: Bool, to bytes: inout [UInt8]) {
        guard let type = tokenType(id) else {
            bytes += [0xEF, 0xBF, 0xBD]
            return
        }
        if skipSpecial && (type == .control || type == .unknown) { return }
        let piece = tokenBytes(id)
        if isFirst && stripsLeadingSpaceOnDecode && piece.first == 0x20 {
            bytes += piece.dropFirst()
        } else {
            bytes += piece
        }
    }
}
