/// How the engine schedules: SGLang's server arguments that matter on one machine.
public struct EngineConfig: Sendable, Equatable {
    public enum SchedulePolicy: String, Sendable, CaseIterable {
        /// First come, first served.
        case fcfs
        /// Longest cached prefix first (falls back to fcfs when the queue is long).
        case lpm
    }

    /// Tokens the KV pool holds; nil picks a size from free memory.
    public var kvCacheTokens: Int?
    public var pageSize = 16
    public var maxRunningRequests = 64
    /// Tokens one prefill batch may add.
    public var maxPrefillTokens = 8192
    /// Longest prefill chunk of one request per step; longer prompts are split.
    public var chunkedPrefillSize = 2048
    public var schedulePolicy = SchedulePolicy.fcfs
    public var radixCache = true
    public var overlap = true
    /// Record timeline events for the Profiler.
    public var recordEvents = true
    /// How Mixture-of-Experts layers compute (ignored by dense models).
    public var moeBackend = MoEBackend.grouped
    /// Decode products take fp32 activations (matches an fp32 reference to 1e-3) instead of
    /// int16-quantized ones (faster; same greedy ids on the reference prompts).
    public var fp32Activations = false
    /// Prompt tokens multiply in bf16 on CPUs with AVX-512 BF16 (set on the engine's device
    /// thread; on by default): faster prefill, logits within about 0.1 of fp32, the same
    /// numbers for a prompt token in any batch. Never with `fp32Activations`.
    public var bf16Prompts = true
    /// How the KV pool stores values (SGLang's `--kv-cache-dtype`): `auto` keeps halves, or
    /// fp32 with `fp32Activations`.
    public var kvCacheDType = KVCacheDType.auto
    /// Speculative decoding (nil: off). Speculative steps run without overlap: drafts are
    /// built from tokens the host must have seen (see `SpeculativeConfig`).
    public var speculative: SpeculativeConfig?

    public init() {}

    /// The cache precision this configuration gives `model`.
    public func kvPrecision(for model: any LanguageModel) -> KVCache.Precision {
        switch kvCacheDType {
        case .auto: model.kvPrecision(for: fp32Activations ? .fp32 : .standard)
        case .float32: .float32
        case .float16: model.halfKV ? .float16 : .float32
        }
    }
}

/// `--kv-cache-dtype` values.
public enum KVCacheDType: String, Sendable, CaseIterable {
    case auto
    case float32
    case float16
}
