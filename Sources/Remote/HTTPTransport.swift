import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The only code here that speaks HTTP: Foundation's URLSession (libcurl underneath on Linux).
/// Plain requests answer within their timeout; streams report their status first, then bytes
/// as they arrive, and end with an error when nothing arrives for `idle` seconds, so a server
/// that stops answering can never hang a caller.
struct HTTPTransport: Sendable {
    enum Part: Sendable {
        case status(Int)
        case bytes(Data)
    }

    let session: URLSession

    init() {
        session = URLSession(configuration: Self.configuration())
    }

    /// No URL cache: swift-corelibs-foundation looks a request up in the cache on a background
    /// queue before the task has its protocol, and a `cancel()` landing in that window traps
    /// ("Trying to access a behaviour for a task that in not in the registry"); it killed the
    /// attach tests once when a source closed with requests in flight.
    static func configuration() -> URLSessionConfiguration {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 30
        c.requestCachePolicy = .reloadIgnoringLocalCacheData
        c.urlCache = nil
        return c
    }

    /// One request, its whole body.
    func fetch(_ request: URLRequest) async throws -> (status: Int, body: Data) {
        let box = TaskBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<(status: Int, body: Data), any Error>) in
                let task = session.dataTask(with: request) { data, response, error in
                    if let error { c.resume(throwing: error); return }
                    c.resume(returning: ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
                }
                box.set(task)
                task.resume()
            }
        } onCancel: {
            box.cancel()
        }
    }

    /// A streamed response: `.status` first, then `.bytes` as they come.
    func stream(_ request: URLRequest, idle: Double) -> AsyncThrowingStream<Part, any Error> {
        let (stream, continuation) = AsyncThrowingStream<Part, any Error>.makeStream()
        let delegate = StreamDelegate(continuation)
        let c = Self.configuration()
        // Our watchdog below judges silence; URLSession's own timeout would end a long stream.
        c.timeoutIntervalForRequest = 24 * 3600
        c.timeoutIntervalForResource = 7 * 24 * 3600
        let session = URLSession(configuration: c, delegate: delegate, delegateQueue: nil)
        var request = request
        request.timeoutInterval = 24 * 3600
        let task = session.dataTask(with: request)
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if delegate.silentFor() > idle {
                    delegate.fail(RemoteError.unreachable("no data for \(Int(idle)) s"))
                    task.cancel()
                    return
                }
            }
        }
        continuation.onTermination = { _ in
            watchdog.cancel()
            task.cancel()
            session.invalidateAndCancel()
        }
        task.resume()
        return stream
    }
}

/// Holds a task for a cancellation handler that may run before or after it exists.
final class TaskBox: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionTask?
    private var cancelled = false

    func set(_ t: URLSessionTask) {
        lock.lock()
        task = t
        let c = cancelled
        lock.unlock()
        if c { t.cancel() }
    }

    func cancel() {
        lock.lock()
        cancelled = true
        let t = task
        lock.unlock()
        t?.cancel()
    }
}

/// Hands a data task's callbacks to a stream, and remembers when bytes last came.
final class StreamDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let continuation: AsyncThrowingStream<HTTPTransport.Part, any Error>.Continuation
    private let lock = NSLock()
    private var last = Date()
    private var failure: (any Error)?

    init(_ c: AsyncThrowingStream<HTTPTransport.Part, any Error>.Continuation) { continuation = c }

    func silentFor() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return Date().timeIntervalSince(last)
    }

    func fail(_ e: any Error) {
        lock.lock()
        failure = e
        lock.unlock()
        continuation.finish(throwing: e)
    }

    private func touch() {
        lock.lock()
        last = Date()
        lock.unlock()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        touch()
        continuation.yield(.status((response as? HTTPURLResponse)?.statusCode ?? 0))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        touch()
        continuation.yield(.bytes(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.lock()
        let earlier = failure
        lock.unlock()
        if let error { continuation.finish(throwing: earlier ?? error) } else { continuation.finish() }
        session.finishTasksAndInvalidate()
    }
}
