import HTTPTypes

/// An error a client gets back as OpenAI's error object:
/// `{"error": {"message", "type", "param", "code"}}`.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Extra response headers (Retry-After on 503).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(message)" }

    var json: JSON {
        ["error": ["message": .string(message), "type": .string(type), "param": param.json, "code": code.json]]
    }

    static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param)
    }

    static func invalidType(_ param: String, expected: String, got: JSON) -> APIError {
        .badRequest("'\(param)' must be \(expected), not \(got.typeName)", param: param)
    }

    static func outOfRange(_ param: String, _ rule: String) -> APIError {
        .badRequest("'\(param)' must be \(rule)", param: param)
    }

    static let unauthorized = APIError(.unauthorized, "Missing or invalid API key: send 'Authorization: Bearer <key>'",
                                       code: "invalid_api_key")

    static func notFound(path: String) -> APIError {
        APIError(.notFound, "Unknown endpoint '\(path)'", code: "not_found")
    }

    static func unknownModel(_ name: String, served: String) -> APIError {
        APIError(.notFound, "The model '\(name)' does not exist; this server serves '\(served)'", param: "model",
                 code: "model_not_found")
    }

    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, "The request body is larger than \(limit) bytes", code: "request_too_large")
    }

    static func overloaded(queued: Int, retryAfter: Int) -> APIError {
        var e = APIError(.serviceUnavailable, "The server is busy (\(queued) requests are waiting); retry later",
                         type: "server_error", code: "server_overloaded")
        e.headers[.retryAfter] = String(retryAfter)
        return e
    }

    static let shuttingDown = APIError(.serviceUnavailable, "The server is shutting down", type: "server_error",
                                       code: "shutting_down")
}
