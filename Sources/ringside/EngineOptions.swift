import ArgumentParser
import Engine

/// Flags every command that runs a model takes.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Catalog name (see `ringside models list`) or path to a .gguf file.")
    var model = ModelCatalog.defaultModel

    @Option(name: .customLong("kv-cache-tokens"), help: "Tokens the KV cache holds (default: the model's context, at most 8192).")
    var kvCacheTokens: Int?

    func load() throws -> LoadedModel {
        let path: String
        do { path = try ModelCatalog().resolve(model) } catch { throw CLIError(error.description) }
        do { return try LoadedModel(path: path) } catch { throw CLIError("\(error)") }
    }
}
