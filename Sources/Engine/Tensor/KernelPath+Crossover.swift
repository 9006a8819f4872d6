import Kernels

extension KernelPath {
    /// Products of at most this many tokens take the matrix-vector kernels; wider ones take
    /// dequantized panels and sgemm. Process-wide; for measuring where the two cross.
    public static var matrixVectorMaxTokens: Int {
        get { Int(rs_matmul_gemv_max_tokens()) }
        set { rs_matmul_set_gemv_max_tokens(Int32(newValue)) }
    }
}
