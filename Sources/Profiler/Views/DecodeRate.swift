/// Decode speed as llama.cpp's batched bench counts it: tokens produced by decode batches over
/// the device time spent on them, each batch's span plus the idle gap before it.
public struct DecodeRate: Sendable, Equatable {
    public var tokens = 0
    public var seconds = 0.0

    public init(_ events: [Event]) {
        var lastEnd: UInt64?
        var begin: (time: UInt64, batch: UInt32)?
        for e in events where e.lane == .device && e.span.isBatch {
            if e.kind == .begin {
                begin = (e.time, e.batch)
            } else if e.kind == .end, let b = begin, b.batch == e.batch {
                if e.span == .decode {
                    // A decode batch makes one token per sequence.
                    tokens += Int(e.a)
                    seconds += Double(e.time &- (lastEnd ?? b.time)) / 1e9
                }
                lastEnd = e.time
            }
        }
    }

    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}
