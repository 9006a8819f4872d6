/// A layer's feed-forward part: one SwiGLU network, or routed experts.
enum FeedForward {
    case dense(MLP)
    case moe(MoELayer)
}
