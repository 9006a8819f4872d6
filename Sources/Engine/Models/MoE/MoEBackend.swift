/// How a MoE layer computes its experts.
public enum MoEBackend: String, Sendable, CaseIterable {
    /// Sort (token, expert) pairs by expert and run one matrix product per expert over its
    /// rows (SGLang-JAX's EPMoE with a grouped GEMM).
    case grouped
    /// Every expert over every token, masked by the routing (FusedMoE's reference shape).
    case dense
}
