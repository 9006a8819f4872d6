/// All token strings as UTF-8 in one buffer, plus an open-addressing hash index so the
/// hot loops can look up a byte slice without building a `String`.
struct TokenTable: Sendable {
    /// Concatenated UTF-8 of every token; token `i` is `bytes[offsets[i]..<offsets[i+1]]`.
    let bytes: [UInt8]
    let offsets: [Int32]
    /// Token id per slot, -1 when empty. Capacity is a power of two, at most half full.
    private let slots: [Int32]
    private let mask: Int

    var count: Int { offsets.count - 1 }

    /// Duplicate texts resolve to the last id, as llama.cpp's `token_to_id` map does.
    init(texts: [String]) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(texts.count + 1)
        for text in texts {
            bytes.append(contentsOf: text.utf8)
            offsets.append(Int32(bytes.count))
        }
        var capacity = 16
        while capacity < texts.count * 2 { capacity <<= 1 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        bytes.withUnsafeBufferPointer { all in
            for id in 0..<texts.count {
                let start = Int(offsets[id]), length = Int(offsets[id + 1]) - start
                var slot = Self.hash(all.baseAddress! + start, length) & mask
                while true {
                    let other = Int(slots[slot])
                    if other < 0 { slots[slot] = Int32(id); break }
                    let otherStart = Int(offsets[other])
                    if Int(offsets[other + 1]) - otherStart == length,
                       Self.equal(all.baseAddress! + start, all.baseAddress! + otherStart, length) {
                        slots[slot] = Int32(id)
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    /// Id of the token whose text is exactly `length` bytes at `key`, or -1.
    @inline(__always)
    func find(_ key: UnsafePointer<UInt8>, _ length: Int) -> Int32 {
        var slot = Self.hash(key, length) & mask
        return slots.withUnsafeBufferPointer { slots in
            offsets.withUnsafeBufferPointer { offsets in
                bytes.withUnsafeBufferPointer { all in
                    while true {
                        let id = slots[slot]
                        if id < 0 { return -1 }
                        let start = Int(offsets[Int(id)])
                        if Int(offsets[Int(id) + 1]) - start == length,
                           Self.equal(key, all.baseAddress! + start, length) {
                            return id
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    func find(_ text: String) -> Int32? {
        var text = text
        let id = text.withUTF8 { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return find(base, buffer.count)
        }
        return id >= 0 ? id : nil
    }

    func find(_ utf8: [UInt8]) -> Int32? {
        let id = utf8.withUnsafeBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return find(base, buffer.count)
        }
        return id >= 0 ? id : nil
    }

    func utf8(_ id: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[id])..<Int(offsets[id + 1])]
    }

    func text(_ id: Int) -> String {
        String(decoding: utf8(id), as: UTF8.self)
    }

    /// FNV-1a: tokens are short, so a byte-at-a-time hash is cheap and well spread.
    @inline(__always)
    private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<n {
            h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        for i in 0..<n where a[i] != b[i] { return false }
        return true
    }
}
