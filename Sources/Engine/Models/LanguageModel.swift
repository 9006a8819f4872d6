/// A causal language model that runs batches over a paged KV cache.
///
/// Implementations keep a workspace and are not reentrant: one thread (the device thread)
/// calls `forward` at a time.
public protocol LanguageModel: AnyObject, Sendable {
    var info: ModelInfo { get }
    /// Runs the batch, writing its tokens' K/V into `cache`, and returns the requested logits.
    func forward(_ batch: ForwardBatch, cache: KVCache) -> Logits
}
