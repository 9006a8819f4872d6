/// Why a request to a server failed, worded for the cockpit's status line.
public enum RemoteError: Error, Sendable, Equatable, CustomStringConvertible {
    case badURL(String)
    /// The server answered with this status (and this start of its body).
    case status(Int, String)
    /// No answer: refused, reset, timed out, name unknown.
    case unreachable(String)
    /// An answer this client could not read.
    case malformed(String)

    public var description: String {
        switch self {
        case .badURL(let u): "not an http(s):// URL: \(u)"
        case .status(401, _): "401 unauthorized: check --api-key"
        case .status(403, _): "403 forbidden: check --api-key"
        case .status(404, _): "404 not found"
        case .status(503, _): "503 unavailable (overloaded or starting)"
        case let .status(code, body): "HTTP \(code)\(body.isEmpty ? "" : ": " + body.prefix(80))"
        case .unreachable(let why): "unreachable: \(why)"
        case .malformed(let why): "malformed answer: \(why)"
        }
    }
}

/// Waits that grow after each failure and start over after a success: a server that is down
/// is asked again soon, but not hammered.
public struct Backoff: Sendable, Equatable {
    public var failures = 0
    public let base: Double
    public let cap: Double

    public init(base: Double = 0.5, cap: Double = 10) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait after one more failure.
    public mutating func next() -> Double {
        failures += 1
        return min(cap, base * Double(1 << min(failures - 1, 16)))
    }

    public mutating func reset() { failures = 0 }
}
