/// Reusable buffers for merging one pre-token; kept across pre-tokens to avoid allocation.
struct BPEScratch {
    var ids: [Int32] = []
    var prev: [Int32] = []
    var next: [Int32] = []
    /// Min-heap of `rank << 32 | leftPosition`: lowest rank first, then leftmost.
    var heap: [UInt64] = []
    /// Byte offset of each initial symbol (character-level BPE only).
    var starts: [Int32] = []
}

/// Byte-level BPE over token ids (llama.cpp `llm_tokenizer_bpe_session`, HF `Word::merge_all`):
/// repeatedly merge the lowest-ranked adjacent pair, leftmost first.
struct BPEMerger: Sendable {
    let merges: MergeTable
    /// Token id of each byte's byte-level character, -1 if the vocabulary lacks it.
    let byteTokens: [Int32]
    /// Ids from here on are pieces that merges build but the vocabulary lacks (`virtualTexts`).
    var vocabularySize: Int32 = .max
    var virtualTexts: [[UInt8]] = []
    var virtualTable: TokenTable? = nil
    /// Token of each one-byte (ASCII) text: how llama.cpp spells out a byte-level piece that
    /// is no token.
    var singleByteTokens: [Int32] = []

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
        mergeAll(&scratch)
        var i = 0
        while i >= 0 {
            let id = scratch.ids[i]
            // Bytes missing from the vocabulary are dropped, as llama.cpp does.
            if id >= vocabularySize {
                for b in virtualTexts[Int(id - vocabularySize)] where b < 0x80 && singleByteTokens[Int(b)] >= 0 {
                    out.append(singleByteTokens[Int(b)])
                }
            } else if id >= 0 {
                out.append(id)
            }
            i = Int(scratch.next[i])
        }
    }

    /// BPE over UTF-8 characters rather than byte-level symbols (llama.cpp's BPE without byte
    /// encoding: Gemma 4). A character missing from the vocabulary comes out as its bytes'
    /// `<0xXX>` tokens (`byteFallback`), or not at all when those are missing too.
    func mergeCharacters(_ bytes: UnsafeBufferPointer<UInt8>, table: TokenTable, byteFallback: [Int32],
                         _ scratch: inout BPEScratch, _ out: inout [Int32]) {
        let n = bytes.count
        if n == 0 { return }
        scratch.ids.removeAll(keepingCapacity: true)
        scratch.prev.removeAll(keepingCapacity: true)
        scratch.next.removeAll(keepingCapacity: true)
        scratch.heap.removeAll(keepingCapacity: true)
        scratch.starts.removeAll(keepingCapacity: true)
        var i = 0
        while i < n {
            let b = bytes[i]
            let length = min(n - i, b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4)
            var id = table.find(bytes.baseAddress! + i, length)
            if id < 0, let virtual = virtualTable {
                let v = virtual.find(bytes.baseAddress! + i, length)
                if v >= 0 { id = v + vocabularySize }
            }
            scratch.ids.append(id)
            scratch.starts.append(Int32(i))
            i += length
        }
        let count = scratch.ids.count
        for k in 0..<count {
            scratch.prev.append(Int32(k - 1))
            scratch.next.append(k + 1 < count ? Int32(k + 1) : -1)
        }
        mergeAll(&scratch)
        var k = 0
        while k >= 0 {
            let id = scratch.ids[k]
            if id >= vocabularySize {
                for b in virtualTexts[Int(id - vocabularySize)] where byteFallback[Int(b)] >= 0 { out.append(byteFallback[Int(b)]) }
            } else if id >= 0 {
                out.append(id)
            } else {
                // Never merged, so still one character.
                let start = Int(scratch.starts[k])
                let end = k + 1 < count ? Int(scratch.starts[k + 1]) : n
                for b in start..<end where byteFallback[Int(bytes[b])] >= 0 { out.append(byteFallback[Int(bytes[b])]) }
            }
            k = Int(scratch.next[k])
        }
    }

    /// Merges the symbols `scratch.ids` / `prev` / `next` describe until no ranked pair is left.
    private func mergeAll(_ scratch: inout BPEScratch) {
        let n = scratch.ids.count
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
