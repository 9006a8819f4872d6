import ArgumentParser
import Engine

/// `--model` for every command that runs a model, and the one place a catalog name or a path
/// becomes a loaded model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Catalog name (see `ringside models list`), a .gguf file or a Hugging Face model folder.")
    var model = ModelCatalog.defaultModel
    @Option(name: .long, help: "Quantize a Hugging Face checkpoint's matrices as it loads: q8_0 or q4_0.")
    var quantize: LoadQuantization?
    @Flag(name: .customLong("interleave-weights"), inversion: .prefixedNo,
          help: "Interleave Q4_0, Q4_1, Q5_0, Q8_0, Q4_K and Q6_K matrices 16 rows at a time as they load, on CPUs with AVX-512 VNNI (on by default): steps of several tokens (batches, speculative verification) cost less per token. --no-interleave-weights keeps the file's layout.")
    var interleaveWeights = true

    /// The file or folder `--model` names.
    func resolvedPath() throws -> String { try Self.resolve(model) }

    func load() throws -> LoadedModel {
        KernelPath.interleaveWeights = interleaveWeights
        return try Self.load(model, quantization: quantize)
    }

    static func resolve(_ nameOrPath: String) throws -> String {
        do { return try ModelCatalog().resolve(nameOrPath) } catch { throw CLIError(error.description) }
    }

    static func load(_ nameOrPath: String, quantization: LoadQuantization?) throws -> LoadedModel {
        let path = try resolve(nameOrPath)
        do { return try LoadedModel(path: path, quantization: quantization) } catch { throw CLIError("\(error)") }
    }
}

extension LoadQuantization: ExpressibleByArgument {}
