import Foundation

/// Models opened by path, most recent first, kept across sessions so that the cockpit's model
/// picker can offer them next to the catalog. A JSON array of absolute paths in
/// `$XDG_STATE_HOME/ringside/recent-models.json` (default `~/.local/state`).
public struct RecentModels: Sendable {
    public static let limit = 8
    public let file: String

    public init(file: String? = nil) {
        self.file = file ?? ModelCatalog.xdgDirectory("XDG_STATE_HOME", default: ".local/state") + "/ringside/recent-models.json"
    }

    /// The recorded paths that still exist. A missing or unreadable file is an empty list.
    public func list() -> [String] {
        guard let data = FileManager.default.contents(atPath: file),
              let paths = try? JSONDecoder().decode([String].self, from: data) else { return [] }
        return paths.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Puts `path` (made absolute) first. Catalog names are not paths and are not recorded.
    /// Returns false when the list could not be written; nothing else depends on it.
    @discardableResult
    public func add(_ path: String) -> Bool {
        guard ModelCatalog().entry(named: path) == nil else { return true }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let paths = [absolute] + list().filter { $0 != absolute }
        do {
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
            let data = try encoder.encode(Array(paths.prefix(Self.limit)))
            try data.write(to: URL(fileURLWithPath: file), options: .atomic)
            return true
        } catch {
            return false
        }
    }
}
