/// A causal language model that runs batches over a paged KV cache.
///
/// Implementations keep a workspace and are not reentrant: one thread (the device thread)
/// calls `forward` at a time.
public protocol LanguageModel: AnyObject, Sendable {
    var info: ModelInfo { get }
    /// Runs the batch, writing its tokens' K/V into `cache`, and returns the requested logits.
    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits
    /// Whether its K/V may be kept as halves: a model that keeps values of its own in the cache
    /// needs them back exactly (the tests' scripted models keep token ids there).
    var halfKV: Bool { get }
}

extension LanguageModel {
    public var halfKV: Bool { false }

    /// The cache precision for a run with these activations: fp32 with fp32 activations (the
    /// path that matches an fp32 reference), halves otherwise where the model takes them.
    public func kvPrecision(for activations: ActivationFormat) -> KVCache.Precision {
        activations == .fp32 || !halfKV ? .float32 : .float16
    }
}
