/// Which KV slots hold the MTP layer's KV for the main KV they hold now, as the host sees it.
///
/// The layer runs lazily: only when a speculative step is about to draft does it catch up over
/// the positions it missed (`NextNDrafter`), so plain steps cost what they cost without nextn.
/// A request remembers how far its own catch-ups got (`Req.mtpComputed`), but a prefix it takes
/// from the radix tree was computed by others, who may never have drafted: these flags say
/// how much of it is covered. Any batch's main forward makes its slots stale (new content, or
/// draft positions the chain wrote with guesses); a scheduled catch-up makes them current.
/// Batches run in launch order and catch-ups only in steps that drained the ones in flight,
/// so marking at build time matches what the device will have done.
///
/// Host thread only.
struct NextNCoverage {
    private var current: [Bool]

    init(slots: Int) { current = Array(repeating: false, count: slots) }

    mutating func stale<C: Collection>(_ slots: C) where C.Element == Int32 {
        for s in slots { current[Int(s)] = false }
    }

    /// Positions `from ..< to` of the sequence whose slots `row` lists are being caught up.
    mutating func caughtUp(row: UnsafePointer<Int32>, from: Int, to: Int) {
        for p in from ..< max(from, to) { current[Int(row[p])] = true }
    }

    /// The first position in `from ..< to` whose slot is not current (`to` if all are).
    func firstStale(row: UnsafePointer<Int32>, from: Int, to: Int) -> Int {
        var p = from
        while p < to && current[Int(row[p])] { p += 1 }
        return p
    }
}
