import ArgumentParser
import Engine
import Foundation
import Profiler
import TUI

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The cockpit: chat with a model in a full-screen terminal UI.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @Option(name: .long, help: "Theme name (a file NAME.theme in Themes/ or ~/.config/ringside/themes).") var theme = "default"
    @Option(name: .long, help: "Write a Chrome trace (Perfetto) of the session's timeline on exit.") var trace: String?
    @Option(name: .long, help: "Chat with a server at this base URL instead of loading a model (--model then names the served model; default: the first /v1/models lists).")
    var attach: String?
    @OptionGroup var remote: RemoteOptions

    func run() throws {
        guard isatty(0) != 0, isatty(1) != 0 else {
            throw CLIError("the cockpit needs a terminal; use `ringside generate` for scripts")
        }
        if let attach {
            let explicit = CommandLine.arguments.contains { $0 == "--model" || $0.hasPrefix("--model=") }
            try runRemoteCockpit(url: attach, remote: remote, chat: true, model: explicit ? options.model : nil, theme: theme)
            return
        }
        let loaded = try options.load()
        RecentModels().add(options.model)
        let config = try engineOptions.engineConfig(for: loaded)
        let engine = Engine(loaded, config: config)
        let collector = trace.map { _ in EventCollector(engine.recorder) }
        let themes = ThemeCatalog.standard()
        let quantize = options.quantize
        let app = CockpitApp(engine: engine, modelName: options.model, themes: themes, theme: themes.load(theme)) { name in
            // Switching models keeps the scheduling flags.
            Engine(try ModelOptions.load(name, quantization: quantize), config: config)
        }
        app.run()
        engine.shutdown()
        if let trace, let events = collector?.stop() {
            try? Data(ChromeTrace.json(events).utf8).write(to: URL(fileURLWithPath: trace))
        }
    }
}
