import Engine
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A server at a base URL: its metrics, models and info endpoints, the events stream of a
/// Ringside server, and streamed chat completions (`RemoteChat.swift`). Every call fails with
/// a `RemoteError` within its timeout; none retries (the caller decides, with `Backoff`).
public final class RemoteClient: Sendable {
    public let base: String
    let apiKey: String?
    let http = HTTPTransport()

    /// - Parameters:
    ///   - url: `http://host:port` (a trailing `/` or `/v1` is dropped).
    public init(url: String, apiKey: String? = nil) throws {
        var u = url.trimmingCharacters(in: .whitespaces)
        while u.hasSuffix("/") { u.removeLast() }
        if u.hasSuffix("/v1") { u.removeLast(3) }
        guard let parsed = URL(string: u), parsed.scheme == "http" || parsed.scheme == "https",
              let host = parsed.host, !host.isEmpty else {
            throw RemoteError.badURL(url)
        }
        base = u
        self.apiKey = apiKey
    }

    /// Ends the client's idle connections.
    public func shutdown() async {
        await http.shutdown()
    }

    func request(_ path: String, method: String = "GET", body: Data? = nil, timeout: Double = 5) -> URLRequest {
        var r = URLRequest(url: URL(string: base + path)!)
        r.httpMethod = method
        r.timeoutInterval = timeout
        if let apiKey { r.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        if let body {
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
            r.httpBody = body
        }
        return r
    }

    static func unreachable(_ error: any Error) -> RemoteError {
        if let e = error as? RemoteError { return e }
        if let why = HTTPTransport.describe(error) { return .unreachable(why) }
        return .unreachable(String("\(error)".prefix(100)))
    }

    /// GET `path`: the body when the status is 200.
    public func get(_ path: String, timeout: Double = 5) async throws -> String {
        let (status, body): (Int, Data)
        do {
            (status, body) = try await http.fetch(request(path, timeout: timeout))
        } catch {
            throw Self.unreachable(error)
        }
        let text = String(decoding: body, as: UTF8.self)
        guard status == 200 else { throw RemoteError.status(status, Self.errorMessage(text)) }
        return text
    }

    /// An OpenAI error object's message, or the body's start.
    static func errorMessage(_ body: String) -> String {
        if let o = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] {
            if let e = o["error"] as? [String: Any], let m = e["message"] as? String { return m }
            if let m = o["error"] as? String { return m }
            if let m = o["message"] as? String { return m }
        }
        return String(body.prefix(200))
    }

    public func metrics() async throws -> MetricsScrape {
        MetricsScrape(text: try await get("/metrics"))
    }

    /// `GET /v1/models`: the ids.
    public func models() async throws -> [String] {
        let text = try await get("/v1/models")
        guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let data = o["data"] as? [[String: Any]] else { throw RemoteError.malformed("/v1/models is not a model list") }
        return data.compactMap { $0["id"] as? String }
    }

    /// `GET /slots` of llama-server.
    public func llamaSlots() async throws -> LlamaSlots {
        guard let slots = LlamaSlots(text: try await get("/slots")) else {
            throw RemoteError.malformed("/slots is not llama-server's slot list")
        }
        return slots
    }

    /// `GET /get_server_info` of SGLang or SGLang-JAX.
    public func serverInfo() async throws -> SGLangServerInfo {
        guard let info = SGLangServerInfo(text: try await get("/get_server_info")) else {
            throw RemoteError.malformed("/get_server_info is not SGLang's server info")
        }
        return info
    }

    /// Which info endpoints answer 200 (`ServerKind.probes`), and SGLang's server info when
    /// one of its info endpoints gave it.
    public func probe() async -> (answered: Set<String>, serverInfo: SGLangServerInfo?) {
        var answered: Set<String> = []
        var info: SGLangServerInfo?
        for p in ServerKind.probes {
            if p == "/v1/events" {
                // A stream: its status is enough.
                do {
                    for try await part in http.stream(request(p), idle: 3) {
                        if case .status(200) = part { answered.insert(p) }
                        break
                    }
                } catch {}
                continue
            }
            guard let body = try? await get(p, timeout: 3) else { continue }
            answered.insert(p)
            if p == "/get_server_info" || p == "/server_info", info == nil { info = SGLangServerInfo(text: body) }
        }
        return (answered, info)
    }

    /// Names the server: `/metrics` prefixes first, the info endpoints when those do not tell.
    /// Throws when the server does not answer at all, or refuses the key.
    public func detect() async throws -> (ServerKind, MetricsScrape?) {
        var scrape: MetricsScrape?
        do {
            scrape = try await metrics()
        } catch let e as RemoteError {
            switch e {
            case .status(401, _), .status(403, _), .unreachable, .badURL: throw e
            default: break
            }
        }
        let (answered, info) = await probe()
        let kind = ServerKind.detect(scrape: scrape, answered: answered, serverInfo: info)
        if kind == .unknown, scrape == nil {
            // Nothing told: the API itself must answer, or this is no server of ours to watch.
            _ = try await models()
        }
        return (kind, scrape)
    }

    /// A streamed response's body after checking its status.
    func streamBody(_ request: URLRequest, idle: Double) -> AsyncThrowingStream<Data, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        let parts = http.stream(request, idle: idle)
        let task = Task {
            do {
                var status = 0
                var errorBody = Data()
                for try await part in parts {
                    switch part {
                    case .status(let s): status = s
                    case .bytes(let d):
                        if status == 200 { continuation.yield(d) } else if errorBody.count < 1 << 16 { errorBody += d }
                    }
                }
                if status != 200 {
                    throw RemoteError.status(status, Self.errorMessage(String(decoding: errorBody, as: UTF8.self)))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.unreachable(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// `GET /v1/events` of a Ringside server, line by line, until the server ends it or the
    /// consuming task is cancelled. Lines come every 100 ms: 10 s of silence is a dead server.
    public func events() -> AsyncThrowingStream<Substring, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Substring, any Error>.makeStream()
        let body = streamBody(request("/v1/events"), idle: 10)
        let task = Task {
            do {
                var pending: [UInt8] = []
                for try await chunk in body {
                    pending += chunk
                    // A line longer than this is not one the server writes.
                    if pending.count > 64 << 20 { throw RemoteError.malformed("/v1/events line too long") }
                    var start = 0
                    while let nl = pending[start...].firstIndex(of: 10) {
                        continuation.yield(Substring(decoding: pending[start ..< nl], as: UTF8.self))
                        start = nl + 1
                    }
                    pending.removeFirst(start)
                }
                continuation.finish(throwing: RemoteError.unreachable("the server ended the events stream"))
            } catch {
                continuation.finish(throwing: Self.unreachable(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
