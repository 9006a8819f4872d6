import Kernels

/// How the matrix-vector products of decode (few tokens) take their activations.
///
/// `int16` (the default) quantizes them per block of 32 and runs integer dot products: several
/// times faster on CPUs whose fp32 path is scalar, and the greedy ids of the fp32 path are kept
/// on the reference prompts. `fp32` multiplies fp32 activations with the dequantized weights and
/// reproduces an fp32 reference to 1e-3 in the logits. `int8Levels` runs the integer kernels with
/// 8-bit levels, as llama.cpp quantizes them: only to measure what 8 bits cost.
public enum ActivationFormat: String, Sendable, CaseIterable {
    case int16
    case fp32
    case int8Levels = "int8-levels"

    var kernelMode: Int32 {
        switch self {
        case .int16: Int32(RS_ACTS_INT16)
        case .fp32: Int32(RS_ACTS_FP32)
        case .int8Levels: Int32(RS_ACTS_INT8)
        }
    }

    /// Runs `body` with this format on the calling thread (the thread that runs the forward pass).
    public func with<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let old = rs_set_thread_activations(kernelMode)
        defer { rs_set_thread_activations(old) }
        return try body()
    }

    /// Makes this format the calling thread's for good (the device thread, once at start).
    func install() { rs_set_thread_activations(kernelMode) }
}
