import ArgumentParser
import Engine
import Foundation
import Logging
import Server

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

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        if let q = maxQueuedRequests, q < 0 { throw ValidationError("--max-queued-requests must be >= 0") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must be >= 0") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        var logger = Logger(label: "ringside.serve")
        logger.logLevel = level
        let loaded = try options.load()
        let engine = Engine(loaded, config: engineOptions.engineConfig)
        var o = ServerOptions(servedModelName: servedModelName ?? options.model)
        o.host = host
        o.port = port
        let envKey = ProcessInfo.processInfo.environment["RINGSIDE_API_KEY"]
        o.apiKey = apiKey ?? (envKey?.isEmpty == false ? envKey : nil)
        o.maxQueuedRequests = maxQueuedRequests
        o.maxBodyBytes = maxBodyBytes
        o.shutdownTimeout = shutdownTimeout
        logger.notice("serving \(loaded.model.info.name) as '\(o.servedModelName)' (\(engine.kvCacheTokens) KV tokens)")
        let server = OpenAIServer(engine: engine, options: o, logger: logger)
        do {
            try await server.run()
        } catch {
            engine.shutdown()
            throw CLIError("\(error)")
        }
        engine.shutdown()
        logger.notice("stopped")
    }
}
