import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `ringside serve`: the engine behind an OpenAI-compatible HTTP API, with Prometheus metrics.
///
/// One responder dispatches on method and path itself, so that every failure, unknown paths
/// included, leaves as an OpenAI error object, and so that authentication and the log line
/// cover every request alike.
public final class OpenAIServer: Sendable {
    let engine: Engine
    let options: ServerOptions
    let logger: Logger
    let metrics: ServerMetrics
    let admission = Admission()
    let runner: ChoiceRunner
    let state = ServerState()

    public init(engine: Engine, options: ServerOptions, logger: Logger) {
        self.engine = engine
        self.options = options
        self.logger = logger
        metrics = ServerMetrics(recorder: engine.recorder)
        runner = ChoiceRunner(engine: engine, metrics: metrics, admission: admission)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, gives running requests
    /// `shutdownTimeout` seconds, aborts the rest and returns.
    public func run() async throws {
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in await respond(request) }
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port), serverName: "ringside"),
            onServerRunning: { [logger, options] channel in
                let port = channel.localAddress?.port ?? options.port
                logger.notice("listening on http://\(options.host):\(port)")
                options.onListening?("http://\(options.host):\(port)")
            },
            logger: logger)
        // Last in the list, so the first told of a shutdown: /health turns 503 at once.
        let watcher = ShutdownWatcher(state: state, hardDeadline: options.shutdownTimeout + 5, logger: logger)
        var config = ServiceGroupConfiguration(services: [app, watcher], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = .milliseconds(Int64(options.shutdownTimeout * 1000))
        let group = ServiceGroup(configuration: config)
        try await group.run()
        state.stopping()
        metrics.stop()
    }

    /// Requests finished or aborted so far.
    public var requestsServed: Int { metrics.requestCount }

    // MARK: Dispatch

    func respond(_ request: Request) async -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        var response: Response
        do {
            response = try await route(request, path: path)
        } catch let e as APIError {
            response = Self.error(e)
        } catch is CancellationError {
            response = Self.error(APIError(.init(code: 499, reasonPhrase: "Client Closed Request"), "the request was cancelled"))
        } catch {
            response = Self.error(APIError(.internalServerError, "\(error)", type: "server_error"))
        }
        if request.method == .post && (path == "/v1/chat/completions" || path == "/v1/completions") {
            // See `completion`: these connections carry one request.
            response.headers[.connection] = "close"
        }
        let ms = ChoiceRunner.seconds(ContinuousClock.now - start) * 1000
        logger.info("\(request.method) \(path) \(response.status.code) \(String(format: "%.1f", ms)) ms")
        return response
    }

    private func route(_ request: Request, path: String) async throws -> Response {
        var request = request
        if path != "/health", let key = options.apiKey {
            guard request.headers[.authorization] == "Bearer \(key)" else { throw APIError.unauthorized }
        }
        let get = request.method == .get, post = request.method == .post
        switch path {
        case "/health" where get:
            guard state.accepting else { throw APIError.shuttingDown }
            return Response(status: .ok)
        case "/health_generate" where get:
            return try await healthGenerate()
        case "/v1/models" where get:
            return Self.json(["object": "list", "data": [modelCard]])
        case "/v1/chat/completions" where post:
            return try await completion(request, kind: .chat)
        case "/v1/completions" where post:
            return try await completion(request, kind: .text)
        case "/metrics" where get:
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render(load: engine.load))))
        case "/v1/events" where get:
            return events()
        case "/tokenize" where post:
            return try tokenize(await body(&request))
        case "/detokenize" where post:
            return try detokenize(await body(&request))
        case "/apply-template" where post:
            return try applyTemplate(await body(&request))
        case "/flush_cache" where post || get:
            return try await flushCache()
        case "/health", "/health_generate", "/v1/models", "/v1/events", "/v1/chat/completions", "/v1/completions", "/metrics",
             "/tokenize", "/detokenize", "/apply-template", "/flush_cache":
            throw APIError(.methodNotAllowed, "\(request.method) is not allowed on \(path)", code: "method_not_allowed")
        default:
            if get, path.hasPrefix("/v1/models/") {
                let name = String(path.dropFirst("/v1/models/".count)).removingPercentEncoding ?? ""
                guard name == options.servedModelName else { throw APIError.unknownModel(name, served: options.servedModelName) }
                return Self.json(modelCard)
            }
            throw APIError.notFound(path: path)
        }
    }

    var modelCard: JSON {
        ["id": .string(options.servedModelName), "object": "model", "created": .int(state.started), "owned_by": "ringside",
         "root": .string(engine.loaded.path), "max_model_len": .int(engine.maxPromptTokens + 1)]
    }

    // MARK: Bodies

    /// The body parsed as JSON, at most `maxBodyBytes` long. The request keeps the collected
    /// body, so Hummingbird can still watch the connection for the client's hang-up.
    func body(_ request: inout Request) async throws -> JSON {
        let limit = options.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw APIError.tooLarge(limit: limit) }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError.tooLarge(limit: limit)
        } catch {
            throw APIError.badRequest("the request body could not be read: \(error)")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.isEmpty { throw APIError.badRequest("the request body is empty; send a JSON object") }
        do {
            return try JSON.parse(bytes)
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error)")
        }
    }

    // MARK: Responses

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: value.text)))
    }

    static func error(_ e: APIError) -> Response {
        var r = json(e.json, status: e.status)
        for field in e.headers { r.headers.append(field) }
        return r
    }
}

/// Marks the server as stopping as soon as a graceful shutdown begins.
struct ShutdownWatcher: Service {
    let state: ServerState
    /// Seconds after the shutdown began at which the process exits whatever still runs: a
    /// handler stuck where cancellation cannot reach must not keep the process alive.
    let hardDeadline: Double
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        state.stopping()
        let deadline = hardDeadline, logger = logger
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: deadline)
            logger.error("shutdown did not finish within \(deadline) s; exiting")
            exit(0)
        }
    }
}

/// Whether the server still takes new work, and when it started.
final class ServerState: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var stopped = false
    let started = Int(Date().timeIntervalSince1970)

    var accepting: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !stopped
    }

    func stopping() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
}
