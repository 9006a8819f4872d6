import Engine

/// `ringside models list`: the cache folder, then one line per catalog model with its state
/// (bundled in the repository, installed in the cache, or not pulled) and summary.
public enum ModelListing {
    public static func text(_ catalog: ModelCatalog, entries: [CatalogEntry] = ModelCatalog.entries) -> String {
        var out = "cache: \(catalog.cacheDirectory)\n"
        for e in entries {
            let state = e.bundled != nil ? "bundled" : catalog.isInstalled(e) ? "installed" : "not pulled"
            out += "  \(pad(e.name, 24)) \(pad(state, 11)) \(e.summary)\n"
        }
        return out
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
