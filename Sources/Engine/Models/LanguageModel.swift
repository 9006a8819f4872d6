/// What the rest of the engine needs to know about a loaded model.
public struct ModelInfo: Sendable, Equatable {
    public var architecture: String
    public var name: String
    public var vocabSize: Int
    public var contextLength: Int
    public var layers: Int
    /// Floats of K (and of V) per token per layer.
    public var kvDim: Int
    public var parameterCount: Int
    public var weightBytes: Int
    /// Mixture-of-Experts layout (0 for dense models): layers counted include dense ones, so
    /// expert counters index by the model's own layer number.
    public var expertLayers: Int = 0
    public var experts: Int = 0
}

/// A causal language model that runs batches over a paged KV cache.
///
/// Implementations keep a workspace and are not reentrant: one thread (the device thread)
/// calls `forward` at a time.
public protocol LanguageModel: AnyObject, Sendable {
    var info: ModelInfo { get }
    /// Runs the batch, writing its tokens' K/V into `cache`, and returns the requested logits.
    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits
}
