import Foundation

/// Where theme files live and which ones exist, so a key can cycle through them live.
/// User themes ($XDG_CONFIG_HOME/ringside/themes) come first: a user file named like a shipped
/// one replaces it, as btop's user theme folder does.
public struct ThemeCatalog: Sendable, Equatable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// The user's folder, then `Themes/` next to the executable (or up to four levels above it,
    /// for .build/<config>/ in a checkout), then `Themes/` in the current directory.
    public static func standard(environment env: [String: String] = ProcessInfo.processInfo.environment,
                                executable: String = CommandLine.arguments[0],
                                currentDirectory: String = FileManager.default.currentDirectoryPath) -> ThemeCatalog {
        var dirs = [userDirectory(environment: env)]
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0 ..< 5 {
            dirs.append(dir.appendingPathComponent("Themes").path)
            dirs.append(dir.appendingPathComponent("share/ringside/themes").path)
            dir = dir.deletingLastPathComponent()
        }
        dirs.append(currentDirectory + "/Themes")
        var seen = Set<String>()
        return ThemeCatalog(directories: dirs.filter { seen.insert($0).inserted })
    }

    /// $XDG_CONFIG_HOME/ringside/themes, or ~/.config/ringside/themes when XDG is unset or empty.
    public static func userDirectory(environment env: [String: String]) -> String {
        let config = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? "") + "/.config")
        return config + "/ringside/themes"
    }

    /// Theme names (file names without `.theme`), "default" first, then alphabetical.
    public func names() -> [String] {
        var names = Set<String>()
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for f in files where f.hasSuffix(".theme") { names.insert(String(f.dropLast(".theme".count))) }
        }
        names.insert("default")  // always available: it is compiled in
        return names.sorted { ($0 == "default" ? 0 : 1, $0) < ($1 == "default" ? 0 : 1, $1) }
    }

    /// The theme called `name` from the first folder that has it; the built-in default when
    /// no folder does (so a missing Themes/ folder never leaves the cockpit without colours).
    public func load(_ name: String) -> Theme {
        for dir in directories {
            if let text = try? String(contentsOfFile: dir + "/" + name + ".theme", encoding: .utf8) {
                return Theme(name: name, parsing: text)
            }
        }
        return name == "default" ? .builtInDefault : Theme(name: name, colors: [:])
    }

    /// The theme after `current` in `names()`, wrapping around: what the theme key shows next.
    public func next(after current: String) -> Theme {
        let all = names()
        let i = all.firstIndex(of: current).map { ($0 + 1) % all.count } ?? 0
        return load(all[i])
    }
}

extension Theme {
    /// Loads the theme called `name` from the standard folders, or the built-in default.
    public static func load(named name: String) -> Theme { ThemeCatalog.standard().load(name) }
}
