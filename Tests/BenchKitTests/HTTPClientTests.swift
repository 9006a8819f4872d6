import BenchKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection HTTP server on a loopback port: it records the request and writes the
/// given response in the given pieces, pausing between them so that they arrive apart.
final class OneShotServer: @unchecked Sendable {
    // `request` is written by the server thread before `done` is signalled and read after.
    let port: UInt16
    private let fd: Int32
    private(set) var request = Data()
    private let done = DispatchSemaphore(value: 0)

    init(pieces: [String]) throws {
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(sock, 1) == 0 else { throw HTTPClient.Failure.connect("test server: \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
        fd = sock
        let listener = sock
        Thread { [self] in
            let c = accept(listener, nil, nil)
            var buf = [UInt8](repeating: 0, count: 4096)
            // Read the head, then as much body as Content-Length says.
            while true {
                let n = recv(c, &buf, buf.count, 0)
                if n <= 0 { break }
                request += buf[0 ..< n]
                if let head = request.range(of: Data("\r\n\r\n".utf8)) {
                    let text = String(decoding: request[..<head.lowerBound], as: UTF8.self).lowercased()
                    let length = text.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if request.count - head.upperBound >= length { break }
                }
            }
            for p in pieces {
                _ = p.utf8CString.withUnsafeBufferPointer { send(c, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
                usleep(2000)
            }
            close(c)
            done.signal()
        }.start()
    }

    func finish() -> String {
        done.wait()
        close(fd)
        return String(decoding: request, as: UTF8.self)
    }
}

@Suite("bench HTTP client")
struct HTTPClientTests {
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
        let client = try HTTPClient(url: "http://127.0.0.1:\(server.port)/v1/")
        var got: [String] = []
        for try await e in client.streamEvents(path: "/chat/completions", body: Data("{\"x\":true}".utf8)) { got.append(e) }
        #expect(got == ["{\"a\":1}", "{\"b\":\"two words\"}"])
        let request = server.finish()
        #expect(request.hasPrefix("POST /v1/chat/completions HTTP/1.1\r\n"))
        #expect(request.contains("Content-Length: 10\r\n"))
        #expect(request.hasSuffix("\r\n\r\n{\"x\":true}"))
    }

    @Test func anErrorStatusThrowsWithTheBody() async throws {
        let body = "{\"error\":\"no such model\"}"
        let server = try OneShotServer(pieces: ["HTTP/1.1 404 Not Found\r\nContent-Length: \(body.utf8.count)\r\n\r\n", body])
        let client = try HTTPClient(url: "http://127.0.0.1:\(server.port)")
        await #expect {
            for try await _ in client.streamEvents(path: "/v1/completions", body: Data("{}".utf8)) {}
        } throws: { error in
            guard case let .status(code, text)? = error as? HTTPClient.Failure else { return false }
            return code == 404 && text == body
        }
        _ = server.finish()
    }

    @Test func badURLsSilentServersAndClosedPortsAreClearErrors() async throws {
        #expect(throws: HTTPClient.Failure.self) { try HTTPClient(url: "ftp://example/") }
        // A server that hangs up without answering.
        let server = try OneShotServer(pieces: [])
        let port = server.port
        let silent = try HTTPClient(url: "http://127.0.0.1:\(port)")
        await #expect {
            for try await _ in silent.streamEvents(path: "/", body: Data()) {}
        } throws: { error in
            guard case .protocolError? = error as? HTTPClient.Failure else { return false }
            return true
        }
        _ = server.finish()
        // Its port, now closed, refuses the connection.
        await #expect {
            for try await _ in silent.streamEvents(path: "/", body: Data()) {}
        } throws: { error in
            guard case .connect? = error as? HTTPClient.Failure else { return false }
            return true
        }
    }
}
