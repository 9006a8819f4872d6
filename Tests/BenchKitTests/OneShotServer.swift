import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct ServerFailure: Error { let errno: Int32 }

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
        guard bound == 0, listen(sock, 1) == 0 else { throw ServerFailure(errno: errno) }
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
