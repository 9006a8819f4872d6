import Foundation
import Hummingbird
import NIOCore
import Profiler

/// `GET /v1/events`: the Profiler's events as NDJSON, for `ringside top` and `chat --attach`.
///
/// The first line describes the engine (`{"kind":"ringside","model":…,"page_size":…,
/// "expert_layers":…,"experts":…,"now":…}`); then every 100 ms one line
/// `{"now":T,"dropped":D,"events":[[time,kind,lane,span,metric,batch,value,a,b],…]}` with the
/// events recorded since the last line (numbers are the `Event` fields' raw values; times on
/// the server's monotonic clock, `now` read as the line is written). The first line with events
/// carries what the recorder's rings still hold, so a late reader sees the recent past.
///
/// The rings are the bounded buffer: the engine's threads write them without ever waiting,
/// and this handler reads them with a cursor of its own. A reader too slow to keep up (its
/// writes wait on the socket) is lapped; what it lost is counted in `dropped` (cumulative,
/// events), never made up by slowing the engine.
extension OpenAIServer {
    static let eventsInterval = Duration.milliseconds(100)

    func events() -> Response {
        let recorder = engine.recorder
        let info = engine.loaded.model.info
        let head: JSON = ["kind": "ringside", "model": .string(options.servedModelName), "page_size": .int(engine.config.pageSize),
                          "expert_layers": .int(info.expertLayers), "experts": .int(info.experts), "now": .int(Int(Recorder.now()))]
        let state = self.state
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        headers[.cacheControl] = "no-cache"
        let body = ResponseBody { writer in
            var cursor = Recorder.Cursor()
            var dropped = 0
            var first = true
            try await writer.write(ByteBuffer(string: head.text + "\n"))
            while state.accepting && !Task.isCancelled {
                let before = cursor.position
                let fresh = recorder.read(&cursor)
                // The first read starts at the rings' oldest event: what came before is history, not a drop.
                if !first { dropped += max(0, cursor.position - before - fresh.count) }
                first = false
                try await writer.write(ByteBuffer(string: Self.eventsLine(fresh, now: Recorder.now(), dropped: dropped)))
                try await Task.sleep(for: Self.eventsInterval)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    static func eventsLine(_ events: [Event], now: UInt64, dropped: Int) -> String {
        var s = "{\"now\":\(now),\"dropped\":\(dropped),\"events\":["
        s.reserveCapacity(s.utf8.count + events.count * 40)
        for (i, e) in events.enumerated() {
            if i > 0 { s += "," }
            s += "[\(e.time),\(e.kind.rawValue),\(e.lane.rawValue),\(e.span.rawValue),\(e.metric.rawValue),\(e.batch),\(e.value),\(e.a),\(e.b)]"
        }
        s += "]}\n"
        return s
    }
}
