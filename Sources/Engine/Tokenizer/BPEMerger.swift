/// Reusable buffers for merging one pre-token; kept across pre-tokens to avoid allocation.
struct BPEScratch {
    var ids: [Int32] = []
    var prev: [Int32] = []
    var next: [Int32] = []
    /// Min-heap of `rank << 32 | leftPosition`: lowest rank first, then leftmost.
    var heap: [UInt64] = []
}

/// Byte-level BPE over token ids (llama.cpp `llm_tokenizer_bpe_session`, HF `Word::merge_all`):
/// repeatedly merge the lowest-ranked adjacent pair, leftmost first.
struct BPEMerger: Sendable {
    let merges: MergeTable
    /// Token id of each byte's byte-level character, -1 if the vocabulary lacks it.
    let byteTokens: [Int32]

    /// Appends the ids for one pre-token's raw bytes.
    func merge(_ bytes: UnsafeBufferPointer<UInt8>, _ scratch: inout BPEScratch, _ out: inout [Int32]) {
        let n = bytes.count
        if n == 0 { return }
        if n == 1 {
            let id = byteTokens[Int(bytes[0])]
            if id >= 0 { out.append(id) }
            return
        }
        scratch.ids.removeAll(keepingCapacity: true)
        scratch.prev.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.heap.removeAll(keepingCapacity: true)
        for i in 0..<n {
            scratch.ids.append(byteTokens[Int(bytes[i])])
            scratch.prev.append(Int32(i - 1))
            scratch.next.append(i + 1 < n ? Int32(i + 1) : -1)
        }
        for i in 0..<(n - 1) {
            if let value = merges.lookup(scratch.ids[i], scratch.ids[i + 1]) {
                MinHeap.push(&scratch.heap, (value & 0xFFFF_FFFF_0000_0000) | UInt64(i))
            }
        }
        while let top = MinHeap.pop(&scratch.heap) {
            let rank = top >> 32
            let left = Int(top & 0xFFFF_FFFF)
            let right = Int(scratch.next[left])
            // Stale entry: the left symbol was absorbed, or either side changed since the push.
            guard scratch.ids[left] >= 0, right >= 0,
                  let value = merges.lookup(scratch.ids[left], scratch.ids[right]),
                  value >> 32 == rank else { continue }
            scratch.ids[left] = Int32(truncatingIfNeeded: value)
            scratch.ids[right] = Int32.min
            let after = scratch.next[right]
            scratch.next[left] = after
            if after >= 0 { scratch.prev[Int(after)] = Int32(left) }
            let before = Int(scratch.prev[left])
            if before >= 0, let v = merges.lookup(scratch.ids[before], scratch.ids[left]) {
                MinHeap.push(&scratch.heap, (v & 0xFFFF_FFFF_0000_0000) | UInt64(before))
            }
            if after >= 0, let v = merges.lookup(scratch.ids[left], scratch.ids[Int(after)]) {
                MinHeap.push(&scratch.heap, (v & 0xFFFF_FFFF_0000_0000) | UInt64(left))
            }
        }
        var i = 0
        while i >= 0 {
            let id = scratch.ids[i]
            // Bytes missing from the vocabulary are dropped, as llama.cpp does.
            if id >= 0 { out.append(id) }
            i = Int(scratch.next[i])
        }
    }
}

/// Binary min-heap over packed `UInt64` keys stored in a plain array.
enum MinHeap {
    @inline(__always)
    static func push(_ heap: inout [UInt64], _ value: UInt64) {
        heap.append(value)
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let parent = (i - 1) >> 1
                if h[parent] <= value { break }
                h[i] = h[parent]
                i = parent
            }
            h[i] = value
        }
    }

    @inline(__always)
    static func pop(_ heap: inout [UInt64]) -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        return heap.withUnsafeMutableBufferPointer { h -> UInt64 in
            let top = h[0]
            let n = h.count
            var i = 0
            while true {
                var child = 2 * i + 1
                if child >= n { break }
                if child + 1 < n && h[child + 1] < h[child] { child += 1 }
                if last <= h[child] { break }
                h[i] = h[child]
                i = child
            }
            h[i] = last
            return top
        }
    }
}
