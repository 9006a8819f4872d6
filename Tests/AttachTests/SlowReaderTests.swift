import Foundation
import Remote
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `GET /v1/events` with a reader that stops reading: the engine does not wait for it, and
/// once it reads again its lines say how many events it lost.
@Suite("slow /v1/events reader", .serialized)
struct SlowReaderTests {
    /// A completion of exactly `tokens` tokens (`ignore_eos`): what the server generated.
    static func complete(_ base: String, tokens: Int, seed: Int) async throws -> Int {
        var r = URLRequest(url: URL(string: base + "/v1/completions")!)
        r.httpMethod = "POST"
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        r.timeoutInterval = 300
        r.httpBody = Data("""
            {"model":"tiny-ring","prompt":"Count the stars: \(seed)","max_tokens":\(tokens),"ignore_eos":true,"temperature":0}
            """.utf8)
        let (data, response) = try await URLSession.shared.data(for: r)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200, let o = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let usage = o["usage"] as? [String: Any], let n = usage["completion_tokens"] as? Int
        else { throw LoopbackServer.Failure(description: "completion failed (\(status)): \(String(decoding: data, as: UTF8.self))") }
        return n
    }

    /// `clients` completions at once; returns the tokens each generated and the seconds taken.
    static func round(_ base: String, clients: Int, tokens: Int, seed: Int) async throws -> ([Int], Double) {
        let start = ContinuousClock.now
        let counts = try await withThrowingTaskGroup(of: Int.self) { g in
            for i in 0 ..< clients { g.addTask { try await Self.complete(base, tokens: tokens, seed: seed * 100 + i) } }
            var all: [Int] = []
            for try await n in g { all.append(n) }
            return all
        }
        return (counts, RemoteClient.seconds(ContinuousClock.now - start))
    }

    @Test func lappedReaderSeesDropsAndTheEngineDoesNotWait() async throws {
        let server = try LoopbackServer(["--model", "tiny-ring", "--kv-cache-tokens", "8192"])
        // The reader that stops: a socket whose receive buffer is as small as the kernel allows,
        // so the server's writes to it block soon after it stops reading.
        let slow = try RawEventsReader(base: server.base, receiveBuffer: 2048)
        defer { slow.close() }
        let header = try #require(try slow.nextLine(timeout: 60), "no events header")
        #expect(try EventsCodec.header(header[...]).model == "tiny-ring")
        #expect(try slow.nextLine(timeout: 10) != nil, "no first events line")

        // A reader that keeps up counts what the engine records meanwhile.
        let counter = EventCounter()
        let client = try RemoteClient(url: server.base)
        let fast = Task {
            var first = true
            for try await line in client.events() {
                if first { first = false; continue }
                let b = try EventsCodec.batch(line)
                counter.add(b.events.count, dropped: b.dropped)
            }
        }
        defer { fast.cancel() }

        // Without a stalled reader... (the slow one is still reading here: drain it alongside).
        let drain = Task.detached { while !Task.isCancelled { _ = try? slow.nextLine(timeout: 0.05) } }
        let (free, freeSeconds) = try await Self.round(server.base, clients: 8, tokens: 448, seed: 0)
        drain.cancel()
        _ = await drain.value
        #expect(free == Array(repeating: 448, count: 8))

        // ...and with it stalled: it reads nothing from here on. Every request still runs to
        // its last token, while the engine records far more than the rings and both socket
        // buffers can hold, so the stalled reader must be lapped.
        let before = counter.total
        var stalledTokens = 0, stalledSeconds = 0.0, rounds = 0
        while counter.total - before < 400_000, rounds < 200 {
            rounds += 1
            let (counts, seconds) = try await Self.round(server.base, clients: 8, tokens: 448, seed: rounds)
            #expect(counts == Array(repeating: 448, count: 8), "round \(rounds) while a reader is stalled")
            stalledTokens += counts.reduce(0, +)
            stalledSeconds += seconds
        }
        #expect(counter.total - before >= 400_000, "the engine recorded \(counter.total - before) events in \(rounds) rounds")
        #expect(counter.maxDropped == 0, "the reader that keeps up loses nothing")
        print("slow reader: 8x448 tokens in \(freeSeconds) s without a stalled reader (\(Double(8 * 448) / freeSeconds) tok/s); "
              + "\(stalledTokens) tokens in \(stalledSeconds) s with one (\(Double(stalledTokens) / stalledSeconds) tok/s), "
              + "\(counter.total - before) events recorded meanwhile")

        // Reading again: past what the buffers held, its lines count what it lost.
        var dropped = 0
        let deadline = Date().addingTimeInterval(60)
        while dropped == 0, Date() < deadline, let line = try slow.nextLine(timeout: 10) {
            dropped = try EventsCodec.batch(line[...]).dropped
        }
        #expect(dropped > 0, "the lapped reader was never told it lost events")
        // The server is still well: a request after all this completes.
        #expect(try await Self.complete(server.base, tokens: 4, seed: 9999) == 4)
    }
}

/// Counts events a reader received, under a lock (written by the reader's task, read by the test).
final class EventCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var dropped = 0

    func add(_ n: Int, dropped d: Int) {
        lock.lock()
        count += n
        dropped = max(dropped, d)
        lock.unlock()
    }

    var total: Int { lock.lock(); defer { lock.unlock() }; return count }
    var maxDropped: Int { lock.lock(); defer { lock.unlock() }; return dropped }
}

/// `GET /v1/events` over a plain socket, read only when asked: a client that can stop reading.
/// Decodes the chunked body and hands out its lines.
final class RawEventsReader: @unchecked Sendable {
    private let fd: Int32
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    private var headersDone = false

    init(base: String, receiveBuffer: Int32) throws {
        guard let url = URL(string: base), let host = url.host, let port = url.port else {
            throw LoopbackServer.Failure(description: "bad base URL \(base)")
        }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackServer.Failure(description: "socket: \(errno)") }
        // Before connect, so the window the server sees is small from the start.
        var size = receiveBuffer
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { Glibc.close(fd); throw LoopbackServer.Failure(description: "connect: \(errno)") }
        let request = Array("GET /v1/events HTTP/1.1\r\nHost: \(host):\(port)\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else {
            Glibc.close(fd)
            throw LoopbackServer.Failure(description: "send: \(errno)")
        }
    }

    func close() { Glibc.close(fd) }

    /// The next NDJSON line, or nil if none arrived within `timeout` seconds.
    func nextLine(timeout: Double) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = body.firstIndex(of: 10) {
                let line = String(decoding: body[..<nl], as: UTF8.self)
                body.removeFirst(nl + 1)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(max(1, left * 1000))) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw LoopbackServer.Failure(description: "the server closed the events stream") }
            raw += chunk[..<n]
            try decode()
        }
    }

    /// Moves whole chunks of the chunked body from `raw` to `body`.
    private func decode() throws {
        if !headersDone {
            guard let end = find([13, 10, 13, 10], in: raw) else { return }
            let head = String(decoding: raw[..<end], as: UTF8.self)
            guard head.hasPrefix("HTTP/1.1 200"), head.lowercased().contains("transfer-encoding: chunked") else {
                throw LoopbackServer.Failure(description: "unexpected response: \(head)")
            }
            raw.removeFirst(end + 4)
            headersDone = true
        }
        while let crlf = find([13, 10], in: raw) {
            guard let size = Int(String(decoding: raw[..<crlf], as: UTF8.self).split(separator: ";")[0], radix: 16) else {
                throw LoopbackServer.Failure(description: "bad chunk size line")
            }
            guard raw.count >= crlf + 2 + size + 2 else { return }
            body += raw[(crlf + 2) ..< (crlf + 2 + size)]
            raw.removeFirst(crlf + 2 + size + 2)
            if size == 0 { throw LoopbackServer.Failure(description: "the server ended the events stream") }
        }
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0 ... hay.count - needle.count where hay[i] == needle[0] && Array(hay[i ..< i + needle.count]) == needle {
            return i
        }
        return nil
    }
}
