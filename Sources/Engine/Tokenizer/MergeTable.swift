/// BPE merge table keyed by the ids of the two merged tokens.
struct MergeTable: Sendable {
    private static let emptyKey = UInt64.max
    private let keys: [UInt64]
    /// `rank << 32 | mergedID` for the matching key.
    private let values: [UInt64]
    private let shift: UInt64

    /// - Parameter pairs: `(left, right, merged)` ids in rank order; the first rank of a
    ///   repeated pair wins (llama.cpp uses `emplace`, which keeps the first). Entries with a
    ///   negative id are placeholders that only hold a rank position.
    init(pairs: [(left: Int32, right: Int32, merged: Int32)]) {
        var bits: UInt64 = 4
        while (1 << bits) < pairs.count * 2 { bits += 1 }
        let capacity = 1 << Int(bits)
        var keys = [UInt64](repeating: Self.emptyKey, count: capacity)
        var values = [UInt64](repeating: 0, count: capacity)
        let shift = 64 - bits
        for (rank, pair) in pairs.enumerated() where pair.left >= 0 && pair.right >= 0 {
            let key = UInt64(UInt32(bitPattern: pair.left)) << 32 | UInt64(UInt32(bitPattern: pair.right))
            var slot = Int((key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while keys[slot] != Self.emptyKey && keys[slot] != key { slot = (slot + 1) & (capacity - 1) }
            if keys[slot] == key { continue }
            keys[slot] = key
            values[slot] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: pair.merged))
        }
        self.keys = keys
        self.values = values
        self.shift = shift
    }

    /// `rank << 32 | mergedID`, or nil when the pair never merges.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64? {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        return keys.withUnsafeBufferPointer { keys in
            let mask = keys.count - 1
            var slot = Int((key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let k = keys[slot]
                if k == key { return values[slot] }
                if k == Self.emptyKey { return nil }
                slot = (slot + 1) & mask
            }
        }
    }
}
