import ArgumentParser
import Engine

/// `--model` for every command that runs a model, and the one place a catalog name or a path
/// becomes a loaded model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Catalog name (see `ringside models list`), a .gguf file or a Hugging Face model folder.")
    var model = ModelCatalog.defaultModel
    @Option(name: .long, help: "Quantize a Hugging Face checkpoint's matrices as it loads: q8_0 or q4_0.")
    var quantize: LoadQuantization?

    /// The file or folder `--model` names.
    func resolvedPath() throws -> String { try Self.resolve(model) }

    func load() throws -> LoadedModel { try Self.load(model, quantization: quantize) }

    static func resolve(_ nameOrPath: String) throws -> String {
        do { return try ModelCatalog().resolve(nameOrPath) } catch { throw CLIError(error.description) }
    }

    static func load(_ nameOrPath: String, quantization: LoadQuantization?) throws -> LoadedModel {
        let path = try resolve(nameOrPath)
        do { return try LoadedModel(path: path, quantization: quantization) } catch { throw CLIError("\(error)") }
    }
}

extension LoadQuantization: ExpressibleByArgument {}
