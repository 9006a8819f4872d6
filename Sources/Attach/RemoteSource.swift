import Engine
import Foundation
import Profiler
import Remote
import TUI

/// A server over the network as a cockpit source (`ringside top URL`, `ringside chat --attach
/// URL`). A background task names the server (`ServerKind`), scrapes `/metrics` every second
/// and, from a Ringside server, reads `GET /v1/events`, whose events the panes draw exactly as
/// the in-process engine's. Every failure (refused, 401, 404, 503, malformed text, a server
/// that goes away) becomes the status line and a retry after a growing wait: nothing the
/// network does can stop or stall the UI thread, which only takes what the task left.
public final class RemoteSource: CockpitSource, @unchecked Sendable {
    public let client: RemoteClient
    public let canChat: Bool
    let forcedKind: ServerKind?
    // Everything below is guarded by `lock`.
    private let lock = NSLock()
    private var kind: ServerKind?
    private var state = "connecting"
    private var pending: [Event] = []
    private var figures: ServerFigures?
    private var hitRates: [Double?] = []
    private var requests: [RequestLane] = []
    private var nextRequest = 1
    private var model: String?
    private var models: [String] = []
    private var header: EventsHeader?
    private var dropped = 0
    private var task: Task<Void, Never>?

    /// - Parameters:
    ///   - kind: `--server-kind`, instead of detecting it.
    ///   - chat: whether the chat pane sends (`chat --attach`) or the cockpit only watches (`top`).
    ///   - model: the model the chat asks for (default: the first `/v1/models` lists).
    public init(url: String, apiKey: String?, kind: ServerKind?, chat: Bool, model: String?) throws {
        client = try RemoteClient(url: url, apiKey: apiKey)
        forcedKind = kind
        canChat = chat
        self.model = model
        task = Task { [weak self] in await self?.watch() }
    }

    // MARK: CockpitSource

    public var modelName: String {
        locked { model ?? header?.model ?? "(asking \(client.base))" }
    }

    public var shape: ExpertShape {
        locked { ExpertShape(modelName: model ?? header?.model ?? "", layers: header?.expertLayers ?? 0, experts: header?.experts ?? 0) }
    }

    public var pageSize: Int { locked { header?.pageSize ?? 16 } }

    public func poll() -> [Event] {
        locked {
            defer { pending = [] }
            return pending
        }
    }

    public var status: String? {
        locked {
            var s = "\(kind?.description ?? "server") at \(client.base) · \(state)"
            if dropped > 0 { s += " · \(dropped) events dropped" }
            return s
        }
    }

    public var server: ServerView? {
        locked {
            guard let kind, kind != .ringside else { return nil }
            var v = ServerView(kind: kind.description, expertNote: kind.expertNote)
            if let f = figures {
                v.running = f.running
                v.queued = f.queued
                v.tokenUsage = f.tokenUsage
                v.throughput = f.throughput
                v.ttft = f.ttft?.quantile(0.5)
                v.itl = f.itl?.quantile(0.5)
                v.cacheHitRate = f.cacheHitRate
                v.overallCacheHitRate = f.overallCacheHitRate
                v.promptTokens = f.promptTokens
                v.generationTokens = f.generationTokens
                v.retractions = f.retractions
                v.expertCounts = f.expertCounts
                v.expertColumns = f.expertColumns.rawValue
                v.balancedness = f.balancedness
            }
            v.hitRateSeries = hitRates
            v.requests = requests
            return v
        }
    }

    public func chat(_ messages: [ChatMessage], params: SamplingParams) -> AsyncThrowingStream<GenerationEvent, any Error> {
        let name = locked { model ?? header?.model ?? models.first ?? "default" }
        let id = locked {
            defer { nextRequest += 1 }
            requests.append(RequestLane(id: nextRequest, sent: Recorder.now()))
            if requests.count > 64 { requests.removeFirst(requests.count - 64) }
            return nextRequest
        }
        let inner = client.chat(model: name, messages: messages, temperature: Double(params.temperature), maxTokens: params.maxTokens)
        let (stream, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        let forward = Task { [weak self] in
            do {
                for try await e in inner {
                    self?.lane(id) { l in
                        if case let .delta(_, _, tokens, _) = e {
                            let now = Recorder.now()
                            if l.firstToken == nil { l.firstToken = now }
                            l.lastToken = now
                            l.tokens += tokens.count
                        } else {
                            l.finished = true
                        }
                    }
                    continuation.yield(e)
                }
                continuation.finish()
            } catch {
                self?.lane(id) { $0.failed = true; $0.finished = true }
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in forward.cancel() }
        return stream
    }

    public func pickerModels() -> Result<[String]?, PickerRefusal> {
        let list = locked { models }
        return list.isEmpty ? .failure(PickerRefusal("\(client.base) lists no models (GET /v1/models)")) : .success(list)
    }

    public func switchModel(_ name: String) throws -> any CockpitSource {
        locked { model = name }
        return self
    }

    public func close() {
        task?.cancel()
        let client = self.client
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await client.shutdown()
            done.signal()
        }
        // The client's shutdown waits for its connections; a stuck one must not hold the exit.
        _ = done.wait(timeout: .now() + 2)
    }

    // MARK: The watcher

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func lane(_ id: Int, _ change: (inout RequestLane) -> Void) {
        locked {
            if let i = requests.firstIndex(where: { $0.id == id }) { change(&requests[i]) }
        }
    }

    private func setState(_ s: String) { locked { state = s } }

    /// Connects, watches, and after any failure waits and starts over, until cancelled.
    private func watch() async {
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let k: ServerKind
                if let f = forcedKind { k = f } else { k = try await client.detect().0 }
                let list = (try? await client.models()) ?? []
                locked {
                    kind = k
                    models = list
                    if model == nil, let first = list.first { model = first }
                }
                setState("connected")
                backoff.reset()
                if k == .ringside {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { [self] in try await readEvents() }
                        group.addTask { [self] in try await scrapeLoop(kind: k) }
                        try await group.next()
                        group.cancelAll()
                    }
                } else {
                    try await scrapeLoop(kind: k)
                }
            } catch {
                if Task.isCancelled { return }
                let wait = backoff.next()
                setState("\(error is RemoteError ? "\(error)" : "error: \(error)") · retry in \(String(format: "%.1f", wait)) s")
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
            }
        }
    }

    /// Scrapes `/metrics` every second (SGLang-JAX: `/get_server_info`, since its metrics carry
    /// no scheduler figures). A server without metrics (404) is watched through its other
    /// endpoints; broken text keeps what parsed and says how many lines did not. llama-server's
    /// throughput comes from `/slots` while it answers (`LlamaSlots` says why).
    private func scrapeLoop(kind: ServerKind) async throws {
        var last: (ServerFigures, ContinuousClock.Instant)?
        var slots = SlotRate(asking: kind == .llamacpp)
        while !Task.isCancelled {
            var note = "connected"
            do {
                var f: ServerFigures
                let now = ContinuousClock.now
                if kind == .sglangJAX {
                    f = ServerFigures(info: try await client.serverInfo())
                } else {
                    let scrape = try await client.metrics()
                    f = ServerFigures(scrape, kind: kind, previous: last.map { ($0.0, RemoteClient.seconds(now - $0.1)) })
                    if !scrape.badLines.isEmpty { note = "/metrics: \(scrape.badLines.count) malformed lines skipped" }
                    if scrape.samples.isEmpty { note = "/metrics has no samples" }
                }
                if let rate = await slots.poll(client) { f.throughput = rate }
                last = (f, now)
                var parts: [String] = []
                if let r = f.running { parts.append("\(Int(r)) running") }
                if let q = f.queued { parts.append("\(Int(q)) queued") }
                if note == "connected", !parts.isEmpty { note = parts.joined(separator: " · ") }
                locked {
                    figures = f
                    hitRates.append(f.cacheHitRate)
                    if hitRates.count > 600 { hitRates.removeFirst(hitRates.count - 600) }
                }
            } catch RemoteError.status(404, _) {
                note = kind == .sglangJAX ? "no /get_server_info" : "no /metrics (SGLang needs --enable-metrics, llama-server --metrics)"
            } catch RemoteError.status(let code, let m) where code != 401 && code != 403 {
                note = "\(RemoteError.status(code, m))"
            } catch RemoteError.malformed(let why) {
                note = "malformed answer: \(why)"
            }
            setState(note)
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Generated tokens per second from llama-server's `/slots`, over the polls of the last five
    /// seconds (a loaded server may add a token per slot only every few polls); stops asking when
    /// the server does not answer it (`--no-slots`, or an older server).
    private struct SlotRate {
        var asking: Bool
        var last: LlamaSlots?
        /// (when, tokens generated since the first poll) per poll, the oldest kept as the base.
        var history: [(ContinuousClock.Instant, Int)] = []

        mutating func poll(_ client: RemoteClient) async -> Double? {
            guard asking else { return nil }
            do {
                let s = try await client.llamaSlots()
                let now = ContinuousClock.now
                defer { last = s }
                let total = (history.last?.1 ?? 0) + (last.map { s.generated(since: $0) } ?? 0)
                history.append((now, total))
                while history.count > 2, RemoteClient.seconds(now - history[1].0) >= 5 { history.removeFirst() }
                guard history.count > 1 else { return nil }
                let dt = RemoteClient.seconds(now - history[0].0)
                return dt > 0 ? Double(total - history[0].1) / dt : nil
            } catch RemoteError.status(let code, _) where code != 503 {
                asking = false
                return nil
            } catch {
                last = nil
                history = []
                return nil
            }
        }
    }

    /// Reads the events stream into `pending`, on this process's clock.
    private func readEvents() async throws {
        var clock = ClockMapping()
        var first = true
        for try await line in client.events() {
            if first {
                let h = try EventsCodec.header(line)
                locked {
                    header = h
                    if model == nil { model = h.model }
                }
                first = false
                continue
            }
            let b = try EventsCodec.batch(line)
            clock.observe(serverNow: b.now, localNow: Recorder.now())
            let mapped = b.events.map { e -> Event in
                var e = e
                e.time = clock.local(e.time)
                return e
            }
            locked {
                pending += mapped
                // The UI takes these ten times a second; if it stops, keep the newest.
                if pending.count > 200_000 { pending.removeFirst(pending.count - 200_000) }
                dropped = b.dropped
            }
        }
    }
}
