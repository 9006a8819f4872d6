import Kernels

/// Which kernels the forward pass takes on this machine: what `ringside microbench` prints, so a
/// figure always says what produced it.
public struct KernelPath: Sendable, Codable, Equatable {
    /// The CPU's own name (display only; the path never depends on it).
    public var cpu: String
    /// scalar, avx2 or avx512: the widest kernels the CPU's feature bits allow.
    public var isa: String
    /// Integer dot-product instructions (AVX-512 VNNI or AVX-VNNI) are present.
    public var vnni: Bool
    /// The matrix-vector kernel of decode for the model's main weight type.
    public var decodeKernel: String
    /// The kernel of a step of 16 tokens (a batch of sequences), where it is another one.
    public var batchKernel: String?
    /// How prefill products run.
    public var prefillKernel: String
    /// The BLAS library and the core type it runs.
    public var blas: String
    /// How the run's KV cache stores values (float16 or float32), where a model was given.
    public var kvCache: String?
    public var threads: Int

    public init(cpu: String, isa: String, vnni: Bool, decodeKernel: String, batchKernel: String? = nil, prefillKernel: String,
                blas: String, threads: Int) {
        self.cpu = cpu
        self.isa = isa
        self.vnni = vnni
        self.decodeKernel = decodeKernel
        self.batchKernel = batchKernel
        self.prefillKernel = prefillKernel
        self.blas = blas
        self.threads = threads
    }

    enum CodingKeys: String, CodingKey {
        case cpu, isa, vnni, threads, blas
        case decodeKernel = "decode_kernel", batchKernel = "batch_kernel", prefillKernel = "prefill_kernel"
        case kvCache = "kv_cache"
    }

    /// The path now, for weights of `weightType` decoded with `activations`, loaded interleaved
    /// where that pays if `interleaved`.
    public static func current(weightType: GGMLType, activations: ActivationFormat = .standard,
                               interleaved: Bool = interleaveWeights) -> KernelPath {
        let f = rs_cpu_features_current().pointee
        let brand = withUnsafeBytes(of: f.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        rs_pool_start(0)
        let blas = rs_blas_available() != 0
        let stored = Int32(weightType.rawValue)
        let type = stored | (interleaved && rs_x16_pays(stored, 16, 256) != 0 ? RS_TYPE_X16 : 0)
        let integer = activations != .fp32 && rs_int_supported(type, 256) != 0
        let gemvMax = !integer ? rs_matmul_gemv_max_tokens()
            : type & RS_TYPE_X16 != 0 ? rs_matmul_x16_gemv_max_tokens() : rs_matmul_int_gemv_max_tokens()
        let one = String(cString: rs_gemv_kernel_name(type, activations.kernelMode))
        let batch = String(cString: rs_gemv_batch_kernel_name(type, activations.kernelMode))
        return KernelPath(
            cpu: brand.trimmingCharacters(in: " "),
            isa: String(cString: rs_isa_name(rs_isa())),
            vnni: rs_cpu_plan_native().pointee.vnni != 0,
            decodeKernel: "\(one) (\(weightType))",
            batchKernel: batch == one ? nil : "\(batch) (\(weightType), 6 tokens or more)",
            prefillKernel: prefillDescription(blas: blas, overTokens: Int(gemvMax), activations: activations),
            blas: String(cString: rs_blas_description()),
            threads: Int(rs_pool_size()))
    }

    /// fp32 panels + sgemm, or without BLAS the matrix-vector kernels; with bf16 prompts on a CPU
    /// with AVX-512 BF16, prompt tokens take bf16 panels at any count (not with fp32 activations).
    static func prefillDescription(blas: Bool, overTokens n: Int, activations: ActivationFormat) -> String {
        let fp32 = blas ? "dequantized panels + sgemm, over \(n) tokens" : "matrix-vector kernels (no BLAS)"
        guard bf16Prompts, activations != .fp32, rs_bf16_panels_supported() != 0 else { return fp32 }
        return "bf16 panels (vdpbf16ps) for prompt tokens, other rows " + (blas ? "sgemm over \(n) tokens" : "matrix-vector kernels")
    }

    /// Prompt tokens multiply in bf16 where the CPU has AVX-512 BF16 (Zen 4, Sapphire Rapids):
    /// pp512 about 1.6x faster on Zen 4, logits within a few 1e-2 of fp32, chosen per token so a
    /// prompt's numbers do not depend on its batch. The process's setting (`SequenceRunner`,
    /// `microbench`); an engine sets its device thread's. On by default (`--no-bf16-prompts`).
    public static var bf16Prompts: Bool {
        get { rs_bf16_prompts() != 0 }
        set { rs_set_bf16_prompts(newValue ? 1 : 0) }
    }

    /// Q4_0, Q4_1, Q5_0, Q8_0, Q4_K and Q6_K matrices of a GGUF file are interleaved sixteen
    /// rows at a time as they load (`rs_repack_x16`), where the CPU has AVX-512 VNNI: a token of
    /// a step of several costs about a third of the vector work. On by default
    /// (`--no-interleave-weights`); read when a model loads.
    public static var interleaveWeights: Bool {
        get { rs_x16_repack() != 0 }
        set { rs_set_x16_repack(newValue ? 1 : 0) }
    }

    /// The type holding most of a GGUF file's bytes: the one decode mostly reads. Hugging Face
    /// folders are taken as bf16.
    public static func dominantType(atPath path: String) -> GGMLType {
        guard path.hasSuffix(".gguf"), let file = try? GGUFFile(path: path) else { return .bf16 }
        var bytes: [GGMLType: Int] = [:]
        for t in file.tensors.values { bytes[t.type, default: 0] += t.byteCount }
        return bytes.max { $0.value < $1.value }?.key ?? .f32
    }

    public struct ISAError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs narrower kernels than the CPU allows, for the whole process: scalar, avx2, avx512.
    /// Call before any model runs.
    public static func lowerISA(to name: String) throws(ISAError) {
        let levels = ["scalar": RS_ISA_SCALAR, "avx2": RS_ISA_AVX2, "avx512": RS_ISA_AVX512]
        guard let level = levels[name] else { throw ISAError(description: "the ISA is scalar, avx2 or avx512, not '\(name)'") }
        guard rs_set_isa(Int32(level)) >= 0 else { throw ISAError(description: "this CPU cannot run the \(name) kernels") }
    }

    public var summary: String {
        "path: cpu \"\(cpu)\", isa \(isa)\(vnni ? "+vnni" : ""), decode \(decodeKernel)\(batchKernel.map { ", batches \($0)" } ?? ""), "
            + "prefill \(prefillKernel)\(kvCache.map { ", kv cache \($0)" } ?? ""), \(blas), \(threads) threads"
    }
}

private extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
