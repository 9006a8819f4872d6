import AsyncHTTPClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The only code here that speaks HTTP: AsyncHTTPClient (SwiftNIO). Callers describe requests
/// as Foundation `URLRequest`s (URL, method, headers, body, timeout); plain requests answer
/// within their timeout; streams report their status first, then bytes as they arrive, and end
/// with an error when nothing arrives for `idle` seconds, so a server that stops answering can
/// never hang a caller.
struct HTTPTransport: Sendable {
    enum Part: Sendable {
        case status(Int)
        case bytes(Data)
    }

    /// One client for the process: its connection pool and the NIO event loops are shared, and
    /// it lives as long as the process, so it never needs shutting down. Failed connections are
    /// not retried here (the cockpit retries with its own `Backoff`), and bodies are not
    /// decompressed (`/v1/events` and SSE are read as they come).
    static let client: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.timeout = .init(connect: .seconds(5))
        c.connectionPool.retryConnectionEstablishment = false
        // `bench --url` keeps up to --concurrency streams open at once (all of its prompts when
        // it has no limit): a request waiting for a pooled connection would count the wait as
        // the server's time to first token.
        c.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 4096
        c.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    /// Idle connections are closed by the pool; nothing to do per caller.
    func shutdown() async {}

    static func convert(_ r: URLRequest) -> HTTPClientRequest {
        var out = HTTPClientRequest(url: r.url?.absoluteString ?? "")
        out.method = HTTPMethod(rawValue: r.httpMethod ?? "GET")
        for (k, v) in r.allHTTPHeaderFields ?? [:] { out.headers.add(name: k, value: v) }
        if let b = r.httpBody { out.body = .bytes(ByteBuffer(bytes: b)) }
        if out.method != .GET { out.headers.replaceOrAdd(name: "Connection", value: "close") }
        return out
    }

    /// One request, its whole body (at most 64 MiB), within the request's timeout.
    func fetch(_ request: URLRequest) async throws -> (status: Int, body: Data) {
        let timeout = TimeAmount.milliseconds(Int64(max(0.001, request.timeoutInterval) * 1000))
        let response = try await Self.execute(Self.convert(request), deadline: .now() + timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }

    /// A pooled keep-alive connection that the server closed a moment ago fails the next
    /// request on it (llama-server does this under `bench --url`: "I/O on closed channel" or
    /// "connection lost"). A GET is asked once more on a new connection. A POST starts a
    /// generation that must not run twice, so it never shares a connection
    /// (`Connection: close`; `ringside serve` closes after a completion anyway).
    static func execute(_ request: HTTPClientRequest, deadline: NIODeadline) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, deadline: deadline)
        } catch let e where request.method == .GET && isStaleConnection(e) {
            return try await client.execute(request, deadline: deadline)
        }
    }

    static func isStaleConnection(_ error: any Error) -> Bool {
        if case ChannelError.ioOnClosedChannel? = error as? ChannelError { return true }
        if let e = error as? HTTPClientError, e == .remoteConnectionClosed { return true }
        return false
    }

    /// A streamed response: `.status` first, then `.bytes` as they come.
    func stream(_ request: URLRequest, idle: Double) -> AsyncThrowingStream<Part, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Part, any Error>.makeStream()
        let silence = Silence()
        let req = Self.convert(request)
        let task = Task {
            do {
                // The deadline would end a long stream: silence is judged by the watchdog.
                let response = try await Self.execute(req, deadline: .distantFuture)
                silence.touch()
                continuation.yield(.status(Int(response.status.code)))
                for try await buffer in response.body {
                    silence.touch()
                    continuation.yield(.bytes(Data(buffer.readableBytesView)))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if silence.seconds() > idle {
                    // Finished here, not by the request's task: the consumer must not wait on it.
                    continuation.finish(throwing: RemoteError.unreachable("no data for \(Int(idle)) s"))
                    task.cancel()
                    return
                }
            }
        }
        continuation.onTermination = { _ in
            watchdog.cancel()
            task.cancel()
        }
        return stream
    }

    /// A transport failure in the status line's words; nil for errors that are not the network's.
    static func describe(_ error: any Error) -> String? {
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "timed out connecting"
            case .readTimeout, .deadlineExceeded: return "timed out"
            case .remoteConnectionClosed: return "connection lost"
            case .cancelled: return "cancelled"
            default: return String("\(e)".prefix(100))
            }
        }
        if let e = error as? IOError {
            switch e.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET, EPIPE: return "connection lost"
            case ETIMEDOUT: return "timed out"
            default: return String("\(e)".prefix(100))
            }
        }
        if let e = error as? NIOConnectionError {
            return e.connectionErrors.first.flatMap { describe($0.error) } ?? "unknown host"
        }
        if error is ChannelError { return String("\(error)".prefix(100)) }
        return nil
    }
}

/// When bytes last came, for the stream watchdog.
final class Silence: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date()

    func touch() {
        lock.lock()
        last = Date()
        lock.unlock()
    }

    func seconds() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return Date().timeIntervalSince(last)
    }
}
