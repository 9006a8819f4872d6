import ArgumentParser
import Engine
import Foundation
import TUI

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The cockpit: chat with a model in a full-screen terminal UI.")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "Theme name (a file NAME.theme in Themes/ or ~/.config/ringside/themes).") var theme = "default"

    func run() throws {
        guard isatty(0) != 0, isatty(1) != 0 else {
            throw CLIError("the cockpit needs a terminal; use `ringside generate` for scripts")
        }
        let loaded = try options.load()
        ChatApp(loaded: loaded, theme: Theme.load(named: theme), kvTokens: options.kvCacheTokens).run()
    }
}
