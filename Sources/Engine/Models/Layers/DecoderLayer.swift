/// One decoder layer: attention and a feed-forward block, each pre-normed and added to the
/// residual stream. The options are what the architectures here differ in: QK norm (in
/// `attention`), Gemma's sandwich norms on each block's output, the feed-forward kind and
/// its activation, and each layer's own RoPE and sliding window.
struct DecoderLayer {
    let attnNorm: UnsafePointer<Float>
    let attention: AttentionWeights
    /// Normalizes the attention output before it joins the residual stream (Gemma).
    var postAttnNorm: UnsafePointer<Float>? = nil
    let ffnNorm: UnsafePointer<Float>
    let ffn: FeedForward
    /// Normalizes the feed-forward output before it joins the residual stream (Gemma).
    var postFfnNorm: UnsafePointer<Float>? = nil
    let rope: RoPE
    /// Attend to at most this many most recent positions; nil attends to all.
    var window: Int? = nil
}
