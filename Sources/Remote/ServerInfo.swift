import Foundation

/// `GET /get_server_info` of SGLang and SGLang-JAX: the server arguments, the scheduler's
/// ready message and one `internal_states` entry per scheduler (`Scheduler.get_internal_state`).
/// For SGLang-JAX it is the only live view of the scheduler over HTTP: its `/metrics` carries
/// no scheduler figures.
public struct SGLangServerInfo: Sendable, Equatable {
    /// Server arguments only SGLang-JAX has (its ahead-of-time compilation buckets).
    static let jaxArguments = ["precompile_token_paddings", "precompile_bs_paddings", "disable_precompile"]

    public var isJAX: Bool
    public var version: String?
    /// Summed over the internal states; nil when no state carries the key.
    public var running: Double?
    public var queued: Double?
    public var throughput: Double?
    public var kvCapacity: Double?
    public var kvAvailable: Double?
    public var treeCacheTokens: Double?

    /// Nil when `text` is not a JSON object or has none of SGLang's server-info keys.
    public init?(text: String) {
        guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        let states = o["internal_states"] as? [[String: Any]]
        guard states != nil || o["max_total_num_tokens"] != nil || o["model_path"] != nil else { return nil }
        isJAX = Self.jaxArguments.contains { o.keys.contains($0) }
        version = o["version"] as? String
        func sum(_ key: String, _ pick: ([String: Any]) -> Any? = { _ in nil }) -> Double? {
            var total: Double?
            for s in states ?? [] {
                guard let v = Self.number(s[key] ?? pick(s)) else { continue }
                total = (total ?? 0) + v
            }
            return total
        }
        running = sum("running_batch_size")
        queued = sum("waiting_queue_size")
        throughput = sum("last_gen_throughput")
        kvAvailable = sum("available_kv_tokens")
        treeCacheTokens = sum("tree_cache_size")
        kvCapacity = sum("token_capacity") { ($0["memory_usage"] as? [String: Any])?["token_capacity"] }
            ?? Self.number(o["max_total_num_tokens"])
    }

    static func number(_ v: Any?) -> Double? {
        let d: Double
        if let x = v as? Int { d = Double(x) } else if let x = v as? Double { d = x } else { return nil }
        return d.isFinite ? d : nil
    }
}

extension ServerFigures {
    /// What the panes show from `/get_server_info` (SGLang-JAX, or SGLang without `/metrics`).
    /// KV in use is what the allocator has handed out, cached prefixes included: the server
    /// does not say how much of its radix tree could be evicted.
    public init(info: SGLangServerInfo) {
        self.init()
        running = info.running
        queued = info.queued
        throughput = info.throughput
        if let cap = info.kvCapacity, cap > 0, let free = info.kvAvailable {
            tokenUsage = min(1, max(0, (cap - free) / cap))
        }
    }
}
