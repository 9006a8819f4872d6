import Kernels

/// How the matrix-vector products of decode (few tokens) take their activations.
///
/// `int16` (the default, `standard`) quantizes them per block of 32 to 16 bits and keeps the fp32
/// path's greedy ids on the reference prompts, its logits within a few 1e-3. `int8` quantizes to
/// 8 bits as llama.cpp does and multiplies 32 byte pairs per instruction (twice int16's); on
/// SmolLM2 it moves the first step's log-probabilities by up to 0.11 and changes the greedy ids
/// of the "capital" reference prompt, for 5-20 % less CPU time, so it is not the default. Both
/// compute W . (d q) exactly, weight offsets included. `fp32` multiplies fp32 activations with
/// the dequantized weights and reproduces an fp32 reference to 1e-3 in the logits.
public enum ActivationFormat: String, Sendable, CaseIterable {
    case int8
    case int16
    case fp32

    /// What decode takes unless asked for another format.
    public static let standard = ActivationFormat.int16

    var kernelMode: Int32 {
        switch self {
        case .int8: Int32(RS_ACTS_INT8)
        case .int16: Int32(RS_ACTS_INT16)
        case .fp32: Int32(RS_ACTS_FP32)
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
