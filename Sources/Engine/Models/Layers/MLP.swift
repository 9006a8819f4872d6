import Kernels

/// A gated feed-forward network, down(act(gate(x)) * up(x)): a dense layer's feed-forward
/// block, and each expert (routed or shared) of a MoE layer.
struct MLP {
    enum Activation: Sendable {
        /// SwiGLU (Llama, Qwen, Ling).
        case silu
        /// GeGLU with the tanh approximation of GELU (Gemma's `gelu_pytorch_tanh`).
        case geluTanh
    }

    let gate, up, down: WeightMatrix
    var activation = Activation.silu
    var inter: Int { gate.rows }

    /// y = mlp(x) for `n` rows (added to y when `accumulate`); `g` and `u` are scratch.
    func forward(_ x: UnsafePointer<Float>, ldx: Int, n: Int, into y: UnsafeMutablePointer<Float>,
                 accumulate: Bool, g: FloatBuffer, u: FloatBuffer) {
        let f = inter, d = down.rows
        g.reserve(n * f)
        u.reserve(n * f)
        matmul(x, ldx: ldx, tokens: n, cols: gate.cols, gate.job(into: g.pointer, ldy: f), up.job(into: u.pointer, ldy: f))
        switch activation {
        case .silu: rs_silu_mul(g.pointer, u.pointer, g.pointer, Int64(n * f))
        case .geluTanh: rs_gelu_tanh_mul(g.pointer, u.pointer, g.pointer, Int64(n * f))
        }
        matmul(g.pointer, ldx: f, tokens: n, cols: f, down.job(into: y, ldy: d, accumulate: accumulate))
    }
}
