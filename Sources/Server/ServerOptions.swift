/// How `ringside serve` listens and whom it serves (SGLang's flag names where it has them).
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port; the log line "listening on" names it.
    public var port = 30000
    /// When set, every endpoint but `/health` needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// The model name clients send and `/v1/models` lists.
    public var servedModelName: String
    /// Requests that may wait beyond the ones running before new ones get 503 (nil: no limit).
    public var maxQueuedRequests: Int?
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes = 8 << 20
    /// Seconds running requests get to finish after SIGTERM before they are aborted.
    public var shutdownTimeout = 30.0
    /// Told the address once the server listens (the cockpit's status line shows it).
    public var onListening: (@Sendable (_ url: String) -> Void)?

    public init(servedModelName: String) {
        self.servedModelName = servedModelName
    }
}
