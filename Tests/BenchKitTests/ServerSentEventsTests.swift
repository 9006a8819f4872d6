import Foundation
import Remote
import Testing

/// `bench --url`'s side of AsyncHTTPClient: server-sent event payloads as they arrive, and
/// each way a server can fail as a `RemoteError`.
@Suite("bench HTTP client")
struct ServerSentEventsTests {
    /// Chunked server-sent events whose chunks split lines and even a `data:` prefix.
    @Test func yieldsEveryEventPayloadAcrossChunkBoundaries() async throws {
        let events = ["data: {\"a\":1}\n\n", "data: {\"b\":\"two words\"}\r\n\r\n", ": comment\n\n", "data: [DONE]\n\n"]
        let body = events.joined()
        // Cut the body into 5-byte pieces, each its own chunk.
        let bytes = Array(body.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 5).map { String(decoding: bytes[$0 ..< min($0 + 5, bytes.count)], as: UTF8.self) }
        let pieces = ["HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"]
            + chunks.map { String($0.utf8.count, radix: 16) + "\r\n" + $0 + "\r\n" } + ["0\r\n\r\n"]
        let server = try OneShotServer(pieces: pieces)
        // A base URL ending in /v1/ names the same server as without it.
        let client = try RemoteClient(url: "http://127.0.0.1:\(server.port)/v1/")
        var got: [String] = []
        for try await e in client.serverSentEvents(post: "/v1/chat/completions", body: Data("{\"x\":true}".utf8)) { got.append(e) }
        #expect(got == ["{\"a\":1}", "{\"b\":\"two words\"}"])
        let request = server.finish()
        #expect(request.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        #expect(request.lowercased().contains("content-length: 10\r\n"))
        #expect(request.hasSuffix("\r\n\r\n{\"x\":true}"))
    }

    @Test func aPlainBodyComesOnce() async throws {
        let body = "{\"choices\":[{\"text\":\"hi\"}]}"
        let server = try OneShotServer(pieces: ["HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n", body])
        let client = try RemoteClient(url: "http://127.0.0.1:\(server.port)")
        var got: [String] = []
        for try await e in client.serverSentEvents(post: "/v1/completions", body: Data("{}".utf8)) { got.append(e) }
        #expect(got == [body])
        _ = server.finish()
    }

    @Test func anErrorStatusThrowsWithTheServersMessage() async throws {
        let body = "{\"error\":\"no such model\"}"
        let server = try OneShotServer(pieces: ["HTTP/1.1 404 Not Found\r\nContent-Length: \(body.utf8.count)\r\n\r\n", body])
        let client = try RemoteClient(url: "http://127.0.0.1:\(server.port)")
        await #expect(throws: RemoteError.status(404, "no such model")) {
            for try await _ in client.serverSentEvents(post: "/v1/completions", body: Data("{}".utf8)) {}
        }
        _ = server.finish()
    }

    @Test func badURLsSilentServersAndClosedPortsAreClearErrors() async throws {
        #expect(throws: RemoteError.badURL("ftp://example/")) { try RemoteClient(url: "ftp://example/") }
        // A server that hangs up without answering.
        let server = try OneShotServer(pieces: [])
        let port = server.port
        let silent = try RemoteClient(url: "http://127.0.0.1:\(port)")
        await #expect {
            for try await _ in silent.serverSentEvents(post: "/", body: Data()) {}
        } throws: { error in
            guard case .unreachable? = error as? RemoteError else { return false }
            return true
        }
        _ = server.finish()
        // Its port, now closed, refuses the connection.
        await #expect(throws: RemoteError.unreachable("connection refused")) {
            for try await _ in silent.serverSentEvents(post: "/", body: Data()) {}
        }
    }
}
