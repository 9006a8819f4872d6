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
        /// Draft tokens after the sequence's newest one: its logits rows are verified in order
        /// and it emits 1 ... drafts + 1 tokens.
        var drafts = 0
        /// Where this sequence's draft-tree parents start in `treeParents` (-1: the drafts are
        /// a chain, each the child of the one before).
        var treeStart = -1
        /// nextn, a sequence with drafts: the MTP layer catches up over positions
        /// `catchUpFrom ..< root` before drafting, given the tokens after them, which
        /// `catchUpTokens` holds sequence after sequence.
        var catchUpFrom = -1
    }

    var id: UInt32
    var kind: SpanKind
    var forward: ForwardBatch
    var seqs: [Seq] = []
    /// Parents of the nodes of every draft tree (the root's is -1), sequence after sequence.
    var treeParents: [Int32] = []
    var catchUpTokens: [Int32] = []
    /// Built as a speculative step (drafts were looked for), for the speculation gate.
    var speculative = false
    // Results, written by the device thread: the tokens each sequence emitted, in order
    // (`counts[i]` of them for sequence i: 0 for a non-final prefill chunk, 1 for a decode),
    // with their logprobs where asked for.
    var tokens: [Int32] = []
    var counts: [Int] = []
    var logprobs: [TokenLogprob?] = []
    var deviceStart: UInt64 = 0
    var deviceEnd: UInt64 = 0
    /// Device time of the MTP layer's catch-up, for the step-time measurements.
    var catchUpNanos: UInt64 = 0

    init(id: UInt32, slotTable: UnsafePointer<Int32>) {
        self.id = id
        kind = .decode
        forward = ForwardBatch(slotTable: slotTable)
    }

    var newTokens: Int { forward.tokenCount }

    var hasDrafts: Bool { seqs.contains { $0.drafts > 0 } }
}
