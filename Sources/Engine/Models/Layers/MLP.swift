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
    /// One call into the kernels (`rs_glu_ffn`): the activation is applied inside the gate/up
    /// region, so no serial work sits between it and the down product's region.
    func forward(_ x: UnsafePointer<Float>, ldx: Int, n: Int, into y: UnsafeMutablePointer<Float>,
                 accumulate: Bool, g: FloatBuffer, u: FloatBuffer) {
        let f = inter, d = down.rows
        g.reserve(n * f)
        u.reserve(n * f)
        var gj = gate.job(into: g.pointer, ldy: f), uj = up.job(into: u.pointer, ldy: f)
        var dj = down.job(into: y, ldy: d, accumulate: accumulate)
        let act = activation == .silu ? RS_GLU_SILU : RS_GLU_GELU_TANH
        rs_glu_ffn(&gj, &uj, Int32(act), &dj, x, Int64(ldx), Int64(gate.cols), Int64(n))
    }
}
