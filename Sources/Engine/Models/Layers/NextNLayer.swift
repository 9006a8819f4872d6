/// A multi-token-prediction (MTP, "nextn") layer as DeepSeek-V3 and Ling/Ring 2.0 checkpoints
/// carry it after their last decoder layer (`num_nextn_predict_layers`): at position p it takes
/// the token at p + 1 and a hidden state of position p and predicts the token at p + 2.
///
/// x = eh_proj([enorm(embed(token)), hnorm(h)]), then an ordinary decoder block with its own KV
/// (the cache's layer after the model's last), then `finalNorm` and the model's own LM head.
/// h is the main model's hidden state after its final norm, or, for a draft chain's later
/// steps, this layer's own normed output one position back.
struct NextNLayer {
    let enorm: UnsafePointer<Float>
    let hnorm: UnsafePointer<Float>
    /// [hidden, 2 hidden]: the embedding half first.
    let ehProj: WeightMatrix
    let block: DecoderLayer
    let finalNorm: UnsafePointer<Float>
}
