import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 client for `bench --url`: one POST per connection, the response body
/// streamed as server-sent-event payloads. Plain sockets, because the load generator must
/// see every chunk the moment it arrives (time to first token, inter-token latency).
public struct HTTPClient: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case badURL(String)
        case connect(String)
        case status(Int, String)
        case protocolError(String)

        public var description: String {
            switch self {
            case .badURL(let u): "not an http:// URL with a host: \(u)"
            case .connect(let m): "cannot connect: \(m)"
            case let .status(code, body): "HTTP \(code): \(body.prefix(300))"
            case .protocolError(let m): "bad HTTP response: \(m)"
            }
        }
    }

    let host: String
    let port: UInt16
    let basePath: String

    public init(url: String) throws {
        guard let u = URL(string: url), u.scheme == "http", let host = u.host else { throw Failure.badURL(url) }
        self.host = host
        port = UInt16(u.port ?? 80)
        basePath = u.path.hasSuffix("/") ? String(u.path.dropLast()) : u.path
    }

    /// POSTs `body` to `path` and yields each `data:` payload of the event stream (or the
    /// whole body once, when the server does not stream).
    public func streamEvents(path: String, body: Data) -> AsyncThrowingStream<String, any Error> {
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let request = self
        let t = Thread {
            do {
                try request.run(path: path, body: body) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        t.start()
        return stream
    }

    private func run(path: String, body: Data, onEvent: (String) -> Void) throws {
        let fd = try connectSocket()
        defer { close(fd) }
        var head = "POST \(basePath)\(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\n"
        head += "Accept: text/event-stream\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try sendAll(fd, Data(head.utf8) + body)

        var reader = SocketReader(fd: fd)
        let statusLine = try reader.line()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let code = Int(parts[1]) else { throw Failure.protocolError(statusLine) }
        var headers: [String: String] = [:]
        while true {
            let l = try reader.line()
            if l.isEmpty { break }
            if let c = l.firstIndex(of: ":") {
                headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = BodyDecoder(chunked: headers["transfer-encoding"]?.lowercased().contains("chunked") == true,
                               length: headers["content-length"].flatMap(Int.init))
        guard code == 200 else {
            var all = Data()
            while let d = try body.next(&reader) { all += d }
            throw Failure.status(code, String(decoding: all, as: UTF8.self))
        }
        let isSSE = headers["content-type"]?.contains("text/event-stream") == true
        var pending = Data()
        while let d = try body.next(&reader) {
            pending += d
            guard isSSE else { continue }
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                var line = String(decoding: pending[pending.startIndex ..< nl], as: UTF8.self)
                pending = Data(pending[(nl + 1)...])
                if line.hasSuffix("\r") { line.removeLast() }
                if line.hasPrefix("data:") {
                    let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                    if payload != "[DONE]" { onEvent(payload) }
                }
            }
        }
        if !isSSE { onEvent(String(decoding: pending, as: UTF8.self)) }
    }

    private func connectSocket() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let first = res else {
            throw Failure.connect("cannot resolve \(host)")
        }
        defer { freeaddrinfo(res) }
        var ai: UnsafeMutablePointer<addrinfo>? = first
        var lastError = "no address"
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if fd >= 0 {
                if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                }
                lastError = String(cString: strerror(errno))
                close(fd)
            }
            ai = a.pointee.ai_next
        }
        throw Failure.connect("\(host):\(port): \(lastError)")
    }

    private func sendAll(_ fd: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var off = 0
            while off < raw.count {
                let n = send(fd, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { throw Failure.connect("send: \(String(cString: strerror(errno)))") }
                off += n
            }
        }
    }
}

/// Buffered reads from a socket.
struct SocketReader {
    let fd: Int32
    var buffer = Data()
    var eof = false

    init(fd: Int32) { self.fd = fd }

    /// Reads more bytes into the buffer; false at end of stream.
    mutating func fill() throws -> Bool {
        guard !eof else { return false }
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw HTTPClient.Failure.connect("recv: \(String(cString: strerror(errno)))") }
        if n == 0 { eof = true; return false }
        buffer += chunk[0 ..< n]
        return true
    }

    /// One CRLF-terminated line, without its terminator.
    mutating func line() throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var l = String(decoding: buffer[buffer.startIndex ..< nl], as: UTF8.self)
                buffer = Data(buffer[(nl + 1)...])
                if l.hasSuffix("\r") { l.removeLast() }
                return l
            }
            guard try fill() else { throw HTTPClient.Failure.protocolError("connection closed mid-header") }
        }
    }

    /// Up to `max` buffered bytes (reading if none are buffered); nil at end of stream.
    mutating func take(max: Int) throws -> Data? {
        if buffer.isEmpty, try !fill() { return nil }
        let n = min(max, buffer.count)
        let out = Data(buffer.prefix(n))
        buffer = Data(buffer.dropFirst(n))
        return out
    }
}

/// Undoes chunked transfer encoding, or counts a Content-Length, or reads to the close.
struct BodyDecoder {
    let chunked: Bool
    var remaining: Int?
    var chunkLeft = 0
    var finished = false

    init(chunked: Bool, length: Int?) {
        self.chunked = chunked
        remaining = chunked ? nil : length
    }

    mutating func next(_ r: inout SocketReader) throws -> Data? {
        if finished { return nil }
        if !chunked {
            if let left = remaining {
                if left == 0 { finished = true; return nil }
                guard let d = try r.take(max: left) else { throw HTTPClient.Failure.protocolError("body shorter than Content-Length") }
                remaining = left - d.count
                return d
            }
            return try r.take(max: 1 << 20)
        }
        if chunkLeft == 0 {
            let sizeLine = try r.line()
            guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
                throw HTTPClient.Failure.protocolError("bad chunk size '\(sizeLine)'")
            }
            if size == 0 { finished = true; return nil }
            chunkLeft = size
        }
        guard let d = try r.take(max: chunkLeft) else { throw HTTPClient.Failure.protocolError("connection closed mid-chunk") }
        chunkLeft -= d.count
        if chunkLeft == 0 { _ = try r.line() }
        return d
    }
}
