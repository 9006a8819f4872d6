import Kernels

extension KernelPath {
    /// Products of at most this many tokens take the matrix-vector kernels; wider ones take
    /// dequantized panels and sgemm. Process-wide; for measuring where the two cross. Reads the
    /// integer activations' limit (the default path); setting it sets the fp32 and the
    /// interleaved weights' ones too.
    public static var matrixVectorMaxTokens: Int {
        get { Int(rs_matmul_int_gemv_max_tokens()) }
        set {
            rs_matmul_set_int_gemv_max_tokens(Int32(newValue))
            rs_matmul_set_gemv_max_tokens(Int32(newValue))
            rs_matmul_set_x16_gemv_max_tokens(Int32(newValue))
        }
    }
}
