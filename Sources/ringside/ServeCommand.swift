import ArgumentParser
import Engine
import Foundation
import Logging
import Server
import TUI

/// `ringside serve`: the OpenAI-compatible HTTP server. Parses flags and hands over to
/// `Server`; everything it serves lives there.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the model over an OpenAI-compatible HTTP API, with Prometheus metrics at /metrics.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @Option(name: .long, help: "Address to listen on.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on (0: any free port, named in the log).") var port = 30000
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer <key>' on every endpoint but /health (default: $RINGSIDE_API_KEY).")
    var apiKey: String?
    @Option(name: .customLong("served-model-name"), help: "The model name clients send (default: the --model value).")
    var servedModelName: String?
    @Option(name: .customLong("max-queued-requests"), help: "Requests that may wait beyond the running ones before others get 503.")
    var maxQueuedRequests: Int?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body; larger ones get 413.")
    var maxBodyBytes = 8 << 20
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds running requests get to finish after SIGTERM.")
    var shutdownTimeout = 30.0
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"
    @Flag(name: .long, help: "Show the full-screen cockpit over the serving engine (HTTP requests appear in its panes; its chat shares the engine).")
    var cockpit = false
    @Option(name: .customLong("log-file"), help: "With --cockpit: where the request log goes (default: ringside-serve-<pid>.log in the temporary folder).")
    var logFile: String?
    @Option(name: .long, help: "With --cockpit: theme name.") var theme = "default"

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        if let q = maxQueuedRequests, q < 0 { throw ValidationError("--max-queued-requests must be >= 0") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must be >= 0") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        if cockpit {
            guard isatty(0) != 0, isatty(1) != 0 else { throw CLIError("--cockpit needs a terminal") }
            // The cockpit owns the screen: the log (swift-log writes to stderr) goes to a file.
            let path = logFile ?? (NSTemporaryDirectory() + "ringside-serve-\(getpid()).log")
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard fd >= 0, dup2(fd, 2) >= 0 else { throw CLIError("cannot write the log to \(path)") }
            close(fd)
        }
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        var logger = Logger(label: "ringside.serve")
        logger.logLevel = level
        let loaded = try options.load()
        let engine = Engine(loaded, config: try engineOptions.engineConfig(for: loaded))
        var o = ServerOptions(servedModelName: servedModelName ?? options.model)
        o.host = host
        o.port = port
        let envKey = ProcessInfo.processInfo.environment["RINGSIDE_API_KEY"]
        o.apiKey = apiKey ?? (envKey?.isEmpty == false ? envKey : nil)
        o.maxQueuedRequests = maxQueuedRequests
        o.maxBodyBytes = maxBodyBytes
        o.shutdownTimeout = shutdownTimeout
        logger.notice("serving \(loaded.model.info.name) as '\(o.servedModelName)' (\(engine.kvCacheTokens) KV tokens)")
        let address = Handoff()
        o.onListening = { address.set($0) }
        let server = OpenAIServer(engine: engine, options: o, logger: logger)
        let cockpitDone = cockpit ? startCockpit(engine: engine, server: server, address: address) : nil
        do {
            try await server.run()
        } catch {
            cockpitDone?.stop()
            engine.shutdown()
            throw CLIError("\(error)")
        }
        cockpitDone?.stop()
        engine.shutdown()
        logger.notice("stopped")
    }
}

extension Serve {
    /// Runs the cockpit on its own thread over the serving engine. Quitting it stops the server
    /// as SIGTERM would; a server stopped by a signal closes the cockpit.
    func startCockpit(engine: Engine, server: OpenAIServer, address: Handoff) -> CockpitThread {
        let done = CockpitThread()
        let name = servedModelName ?? options.model
        let themeName = theme
        let t = Thread {
            let source = EngineSource(engine: engine, modelName: name, loader: nil, owned: false) {
                let load = engine.load
                let url = address.value ?? "starting"
                return "serving \(url) · \(server.requestsServed) done · \(load.runningRequests) running · \(load.queuedRequests) queued"
            }
            let themes = ThemeCatalog.standard()
            let app = CockpitApp(source: source, themes: themes, theme: themes.load(themeName))
            app.exitOnSIGTERM = false
            app.shouldStop = { done.stopping }
            app.run()
            if !done.stopping { kill(getpid(), SIGTERM) }
            done.finished.signal()
        }
        t.name = "ringside-cockpit"
        t.start()
        return done
    }
}

/// The latest value a server thread reports, for the cockpit's status line.
final class Handoff: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: String?
    func set(_ v: String) { lock.lock(); stored = v; lock.unlock() }
    var value: String? { lock.lock(); defer { lock.unlock() }; return stored }
}

/// The cockpit's thread as the server sees it: told to stop, waited for.
final class CockpitThread: @unchecked Sendable {
    private let lock = NSLock()
    private var stopFlag = false
    let finished = DispatchSemaphore(value: 0)
    var stopping: Bool { lock.lock(); defer { lock.unlock() }; return stopFlag }

    /// Closes the cockpit (the terminal is restored) and waits until it has.
    func stop() {
        lock.lock()
        let first = !stopFlag
        stopFlag = true
        lock.unlock()
        if first { finished.wait() }
    }
}
