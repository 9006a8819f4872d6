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
    /// How prefill products run.
    public var prefillKernel: String
    /// The BLAS library and the core type it runs.
    public var blas: String
    public var threads: Int

    public init(cpu: String, isa: String, vnni: Bool, decodeKernel: String, prefillKernel: String, blas: String, threads: Int) {
        self.cpu = cpu
        self.isa = isa
        self.vnni = vnni
        self.decodeKernel = decodeKernel
        self.prefillKernel = prefillKernel
        self.blas = blas
        self.threads = threads
    }

    enum CodingKeys: String, CodingKey {
        case cpu, isa, vnni, threads, blas
        case decodeKernel = "decode_kernel", prefillKernel = "prefill_kernel"
    }

    /// The path now, for weights of `weightType` decoded with `activations`.
    public static func current(weightType: GGMLType, activations: ActivationFormat = .standard) -> KernelPath {
        let f = rs_cpu_features_current().pointee
        let brand = withUnsafeBytes(of: f.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        rs_pool_start(0)
        let blas = rs_blas_available() != 0
        return KernelPath(
            cpu: brand.trimmingCharacters(in: " "),
            isa: String(cString: rs_isa_name(rs_isa())),
            vnni: rs_cpu_plan_native().pointee.vnni != 0,
            decodeKernel: "\(String(cString: rs_gemv_kernel_name(Int32(weightType.rawValue), activations.kernelMode))) (\(weightType))",
            prefillKernel: blas ? "dequantized panels + sgemm, over \(rs_matmul_gemv_max_tokens()) tokens" : "matrix-vector kernels (no BLAS)",
            blas: String(cString: rs_blas_description()),
            threads: Int(rs_pool_size()))
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
        "path: cpu \"\(cpu)\", isa \(isa)\(vnni ? "+vnni" : ""), decode \(decodeKernel), prefill \(prefillKernel), \(blas), \(threads) threads"
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
