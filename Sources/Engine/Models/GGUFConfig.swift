import Foundation

/// Reads an architecture's config from GGUF metadata. llama.cpp writes the same
/// hyperparameters under `<arch>.` for every decoder, so one table maps them to the keys of
/// Hugging Face's config.json, and the architecture's Codable config decodes the result with
/// its own defaults, as it decodes a config.json.
enum GGUFConfig {
    /// GGUF key (after `<arch>.`) to config key. A dotted config key nests
    /// (`rope_scaling.factor`); `rope_dimension_count` has no config.json counterpart.
    static let keys: [String: String] = [
        "embedding_length": "hidden_size",
        "block_count": "num_hidden_layers",
        "attention.head_count": "num_attention_heads",
        "attention.head_count_kv": "num_key_value_heads",
        "attention.key_length": "head_dim",
        "attention.layer_norm_rms_epsilon": "rms_norm_eps",
        "attention.sliding_window": "sliding_window",
        "feed_forward_length": "intermediate_size",
        "context_length": "max_position_embeddings",
        "rope.freq_base": "rope_theta",
        "rope.dimension_count": "rope_dimension_count",
        "rope.scaling.factor": "rope_scaling.factor",
        "expert_count": "num_experts",
        "expert_used_count": "num_experts_per_tok",
        "expert_feed_forward_length": "moe_intermediate_size",
        "expert_weights_norm": "norm_topk_prob",
        "expert_weights_scale": "routed_scaling_factor",
        "expert_shared_count": "num_shared_experts",
        "expert_shared_feed_forward_length": "moe_shared_expert_intermediate_size",
        "expert_group_count": "n_group",
        "expert_group_used_count": "topk_group",
        "leading_dense_block_count": "first_k_dense_replace",
    ]

    /// The config of architecture `arch`. `vocab_size` is the embedding's row count and
    /// `tie_word_embeddings` says whether `output.weight` is absent; `adjust` adds what only
    /// this architecture's metadata says.
    static func load<C: Decodable>(_ type: C.Type, gguf f: GGUFFile, arch: String,
                                   adjust: (inout [String: Any]) -> Void = { _ in }) throws(ModelFileError) -> C {
        var json: [String: Any] = [:]
        for (ggufKey, key) in keys {
            guard let v = f.metadata["\(arch).\(ggufKey)"], let value = jsonValue(v) else { continue }
            let path = key.split(separator: ".").map(String.init)
            if path.count == 2 {
                var inner = json[path[0]] as? [String: Any] ?? [:]
                inner[path[1]] = value
                json[path[0]] = inner
            } else {
                json[key] = value
            }
        }
        let embd = try f.tensor("token_embd.weight")
        json["vocab_size"] = embd.shape.count == 2 ? embd.shape[1] : 0
        json["tie_word_embeddings"] = f.tensors["output.weight"] == nil
        adjust(&json)
        let data: Data
        do { data = try JSONSerialization.data(withJSONObject: json) } catch {
            throw .badHeader(path: f.path, reason: "\(arch) metadata: \(error)")
        }
        let ggufName = Dictionary(keys.map { ($1.split(separator: ".")[0].description, "\(arch).\($0)") }, uniquingKeysWith: { a, _ in a })
        return try HFConfig.decode(C.self, from: data, path: f.path, label: "\(arch) metadata") { ggufName[$0] ?? $0 }
    }

    private static func jsonValue(_ v: GGUFValue) -> Any? {
        switch v {
        case let .bool(b): b
        case .float32, .float64: v.doubleValue
        case let .string(s): s
        default: v.intValue
        }
    }
}
