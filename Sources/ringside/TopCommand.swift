import ArgumentParser
import Attach
import Foundation
import Remote
import TUI

/// `ringside top URL`: the cockpit without the chat pane, watching a server that others load.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a serving engine (Ringside, SGLang, SGLang-JAX, vLLM, llama.cpp) in the cockpit, without chatting.")

    @Argument(help: "The server's base URL, e.g. http://127.0.0.1:30000.") var url: String
    @OptionGroup var remote: RemoteOptions
    @Option(name: .long, help: "Theme name.") var theme = "default"

    func run() throws {
        guard isatty(0) != 0, isatty(1) != 0 else { throw CLIError("the cockpit needs a terminal") }
        try runRemoteCockpit(url: url, remote: remote, chat: false, model: nil, theme: theme)
    }
}

/// How to reach a server: its key, and what kind it is when detection should not decide.
struct RemoteOptions: ParsableArguments {
    @Option(name: .customLong("api-key"), help: "Sent as 'Authorization: Bearer <key>' (default: $RINGSIDE_API_KEY).")
    var apiKey: String?
    @Option(name: .customLong("server-kind"), help: "ringside, sglang, sglang-jax, vllm or llama.cpp (default: detected from /metrics and info endpoints).")
    var serverKind: ServerKind?

    var key: String? {
        let env = ProcessInfo.processInfo.environment["RINGSIDE_API_KEY"]
        return apiKey ?? (env?.isEmpty == false ? env : nil)
    }
}

extension ServerKind: ExpressibleByArgument {}

/// The cockpit over a server: `top` (watch) and `chat --attach` (watch and chat).
func runRemoteCockpit(url: String, remote: RemoteOptions, chat: Bool, model: String?, theme: String) throws {
    let source: RemoteSource
    do {
        source = try RemoteSource(url: url, apiKey: remote.key, kind: remote.serverKind, chat: chat, model: model)
    } catch {
        throw CLIError("\(error)")
    }
    let themes = ThemeCatalog.standard()
    let app = CockpitApp(source: source, themes: themes, theme: themes.load(theme))
    app.run()
}
