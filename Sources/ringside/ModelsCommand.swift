import ArgumentParser
import Console
import Engine
import Foundation

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The model catalog and the local model cache.",
        subcommands: [List.self, Pull.self, Path.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List catalog models and whether they are downloaded.")

        func run() throws {
            print(ModelListing.text(ModelCatalog()), terminator: "")
        }
    }

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a catalog model into the cache (idempotent).")
        @Argument(help: "Catalog name (see `ringside models list`).") var name: String

        func run() throws {
            let catalog = ModelCatalog()
            guard let entry = catalog.entry(named: name) else {
                throw ValidationError(CatalogError.unknownModel(name, known: ModelCatalog.entries.map(\.name)).description)
            }
            if catalog.isInstalled(entry) {
                print(catalog.path(of: entry))
                return
            }
            do {
                let path = try ModelPuller(catalog: catalog).pull(entry) { line in
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
                print(path)
            } catch {
                throw CLIError(error.description)
            }
        }
    }

    struct Path: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print where a model file is (fails if it is not pulled).")
        @Argument(help: "Catalog name or a path.") var name: String

        func run() throws {
            print(try ModelOptions.resolve(name))
        }
    }
}

/// An error printed as one clear line, with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
