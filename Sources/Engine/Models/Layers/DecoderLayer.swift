/// One pre-norm decoder layer.
struct DecoderLayer {
    let attnNorm: UnsafePointer<Float>
    let attention: AttentionWeights
    let ffnNorm: UnsafePointer<Float>
    let ffn: FeedForward
}
