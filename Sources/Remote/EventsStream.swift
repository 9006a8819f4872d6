import Foundation
import Profiler

/// The first line of `GET /v1/events`: what the engine is.
public struct EventsHeader: Sendable, Equatable {
    public var model: String
    public var pageSize: Int
    public var expertLayers: Int
    public var experts: Int
    public var now: UInt64
}

/// One line of events after the header.
public struct EventsBatch: Sendable, Equatable {
    public var now: UInt64
    /// Events the server's rings lapped before this reader got them (cumulative).
    public var dropped: Int
    public var events: [Event]
}

/// Reads `/v1/events` lines (`OpenAIServer.events` writes them).
public enum EventsCodec {
    public static func header(_ line: Substring) throws -> EventsHeader {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              o["kind"] as? String == "ringside", let model = o["model"] as? String,
              let page = o["page_size"] as? Int, let now = o["now"] as? Int else {
            throw RemoteError.malformed("not a /v1/events header: \(line.prefix(80))")
        }
        return EventsHeader(model: model, pageSize: page, expertLayers: o["expert_layers"] as? Int ?? 0,
                            experts: o["experts"] as? Int ?? 0, now: UInt64(max(0, now)))
    }

    /// `{"now":N,"dropped":D,"events":[[time,kind,lane,span,metric,batch,value,a,b],…]}`, read
    /// by hand: thousands of events a line, ten lines a second.
    public static func batch(_ line: Substring) throws -> EventsBatch {
        var r = Reader(bytes: Array(line.utf8))
        guard r.skip("{\"now\":"), let now = r.int(), r.skip(",\"dropped\":"), let dropped = r.int(),
              r.skip(",\"events\":[") else { throw RemoteError.malformed("not a /v1/events line: \(line.prefix(80))") }
        var events: [Event] = []
        if !r.skip("]") {
            repeat {
                guard r.skip("["), let t = r.int(), r.skip(","), let k = r.int(), r.skip(","), let l = r.int(), r.skip(","),
                      let sp = r.int(), r.skip(","), let m = r.int(), r.skip(","), let b = r.int(), r.skip(","),
                      let v = r.int(), r.skip(","), let a = r.int(), r.skip(","), let bb = r.int(), r.skip("]"),
                      let kind = Event.Kind(rawValue: UInt8(truncatingIfNeeded: k)), k >= 0, k < 256,
                      let lane = Lane(rawValue: UInt8(truncatingIfNeeded: l)), l >= 0, l < 256,
                      let span = SpanKind(rawValue: UInt8(truncatingIfNeeded: sp)), sp >= 0, sp < 256,
                      let metric = Metric(rawValue: UInt16(truncatingIfNeeded: m)), m >= 0, m < 65536,
                      t >= 0, b >= 0, b <= Int(UInt32.max), a >= Int(Int32.min), a <= Int(Int32.max),
                      bb >= Int(Int32.min), bb <= Int(Int32.max)
                else { throw RemoteError.malformed("bad event in /v1/events line") }
                events.append(Event(time: UInt64(t), kind: kind, lane: lane, span: span, metric: metric, batch: UInt32(b),
                                    value: Int64(v), a: Int32(a), b: Int32(bb)))
            } while r.skip(",")
            guard r.skip("]") else { throw RemoteError.malformed("unterminated /v1/events line") }
        }
        guard r.skip("}") else { throw RemoteError.malformed("unterminated /v1/events line") }
        return EventsBatch(now: UInt64(max(0, now)), dropped: dropped, events: events)
    }

    struct Reader {
        let bytes: [UInt8]
        var i = 0

        mutating func skip(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard i + n <= bytes.count else { return false }
            let p = s.utf8Start
            for j in 0 ..< n where bytes[i + j] != p[j] { return false }
            i += n
            return true
        }

        mutating func int() -> Int? {
            var neg = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { neg = true; i += 1 }
            var v = 0, digits = 0
            while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(bytes[i] - 48))
                if o1 || o2 { return nil }
                v = s
                digits += 1
                i += 1
            }
            return digits > 0 ? (neg ? -v : v) : nil
        }
    }
}

/// Maps a server's monotonic clock onto this process's: each line says when the server wrote
/// it, and the smallest (local arrival - server time) seen is the offset with the least
/// network delay in it.
public struct ClockMapping: Sendable {
    public private(set) var offset: Int64?

    public init() {}

    public mutating func observe(serverNow: UInt64, localNow: UInt64) {
        let o = Int64(bitPattern: localNow &- serverNow)
        if offset == nil || o < offset! { offset = o }
    }

    public func local(_ t: UInt64) -> UInt64 { UInt64(bitPattern: Int64(bitPattern: t) &+ (offset ?? 0)) }
}
