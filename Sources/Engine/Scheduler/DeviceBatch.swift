import Profiler

/// One step's work as the device thread receives it: the forward batch (whose tokens may be
/// future placeholders) and, per sequence, whether and how to sample.
final class DeviceBatch: @unchecked Sendable {
    // Built by the host, then handed over: the device thread owns it until it posts the
    // result, and the host reads the result only after that.
    struct Seq {
        var row: Int
        /// Sample a token from this sequence's last logits (false for a non-final prefill chunk).
        var sample: Bool
        var state: SamplingState?
    }

    var id: UInt32
    var kind: SpanKind
    var forward: ForwardBatch
    var seqs: [Seq] = []
    // Results, written by the device thread.
    var tokens: [Int32] = []
    var logprobs: [TokenLogprob?] = []
    var deviceStart: UInt64 = 0
    var deviceEnd: UInt64 = 0

    init(id: UInt32, slotTable: UnsafePointer<Int32>) {
        self.id = id
        kind = .decode
        forward = ForwardBatch(slotTable: slotTable)
    }

    var newTokens: Int { forward.tokenCount }
}
