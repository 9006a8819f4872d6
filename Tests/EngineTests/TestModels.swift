import Engine
import Foundation

/// The real models the tests run. `make test` pulls them into the cache first; a missing one
/// is a failure with the command that fixes it, not a silent skip.
enum TestModels {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "model '\(name)' is not in the cache; run `make test` (or `ringside models pull \(name)`)" }
    }

    static func path(_ name: String) throws -> String {
        let catalog = ModelCatalog()
        guard let entry = catalog.entry(named: name), catalog.isInstalled(entry) else { throw Missing(name: name) }
        return catalog.path(of: entry)
    }

    static let smolPath = Result { try path("smollm2-135m-instruct") }
    static let gemmaPath = Result { try path("gemma-3-270m") }

    /// Loaded once per test process: the file is mapped, so sharing it is free.
    static let smol: Result<GGUFFile, any Error> = smolPath.flatMap { p in Result { try GGUFFile(path: p) } }
    static let gemma: Result<GGUFFile, any Error> = gemmaPath.flatMap { p in Result { try GGUFFile(path: p) } }
}

/// A reference file from `../shared/reference`, copied into the fixtures.
struct ReferenceOutput: Decodable {
    let prompt: String
    let chat: Bool
    let prompt_text: String
    let prompt_ids: [Int32]
    let generated_ids: [Int32]
    let generated_text: String
    let first_top5: [[TopEntry]]

    enum TopEntry: Decodable {
        case number(Double), text(String)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
        }
        var number: Double? { if case let .number(d) = self { d } else { nil } }
    }

    static func load(_ name: String) throws -> ReferenceOutput {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")!
        return try JSONDecoder().decode(ReferenceOutput.self, from: Data(contentsOf: url))
    }
}
