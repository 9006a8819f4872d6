import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension RemoteClient {
    /// POSTs a JSON `body` to `path` and yields each `data:` payload of the server-sent event
    /// stream the moment its chunk arrives (`[DONE]` is not a payload); a server that answers
    /// with a plain body instead gives that body once. `bench --url` times its requests by these
    /// payloads, so nothing here buffers beyond one event.
    public func serverSentEvents(post path: String, body: Data, idle: Double = 120) -> AsyncThrowingStream<String, any Error> {
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let bytes = streamBody(request(path, method: "POST", body: body, timeout: 30), idle: idle)
        let task = Task {
            do {
                var parser = SSEParser()
                var sawEvent = false
                var plain: [UInt8] = []
                for try await chunk in bytes {
                    if !sawEvent, plain.count < 1 << 20 { plain += chunk }
                    for payload in parser.feed(Array(chunk)) {
                        sawEvent = true
                        if payload != "[DONE]" { continuation.yield(payload) }
                    }
                }
                if !sawEvent, !plain.isEmpty { continuation.yield(String(decoding: plain, as: UTF8.self)) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: Self.unreachable(error))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
