import Kernels

/// The paged KV pool: for every layer, a K and a V array of `pages * pageSize` slots of
/// `kvDim` values. A slot is `page * pageSize + offset`; sequences own whole pages.
///
/// Values are IEEE halves by default, as llama.cpp keeps them: a decode step of many sequences
/// reads every cached K/V row once per layer, so half the bytes is close to half attention's
/// time. fp32 goes with fp32 activations, so that attention sees exactly what the reference
/// computes.
public final class KVCache: @unchecked Sendable {
    /// How the cache stores a value.
    public enum Precision: String, Sendable, CaseIterable {
        case float32
        case float16

        public var bytes: Int { self == .float32 ? 4 : 2 }
    }

    // The arrays are written only by the device thread during a forward pass; the page
    // allocator is owned by whoever schedules (one thread).
    public let layers: Int
    public let kvDim: Int
    public let pageSize: Int
    public let pageCount: Int
    public let precision: Precision
    // FloatBuffers of the same byte size: a half cache keeps two values in each float's place.
    let k: [FloatBuffer]
    let v: [FloatBuffer]
    public var allocator: PageAllocator

    public var slotCount: Int { pageCount * pageSize }
    /// Bytes of K and V for one token over all layers.
    public var bytesPerToken: Int { layers * kvDim * 2 * precision.bytes }

    public init(layers: Int, kvDim: Int, tokens: Int, pageSize: Int = 16, precision: Precision = .float32) {
        precondition(pageSize > 0 && tokens > 0 && layers > 0 && kvDim > 0)
        self.layers = layers
        self.kvDim = kvDim
        self.pageSize = pageSize
        self.precision = precision
        pageCount = (tokens + pageSize - 1) / pageSize
        let floats = (pageCount * pageSize * kvDim * precision.bytes + 3) / 4
        k = (0 ..< layers).map { _ in FloatBuffer(count: floats) }
        v = (0 ..< layers).map { _ in FloatBuffer(count: floats) }
        allocator = PageAllocator(pageCount: pageCount)
    }

    /// Layer `layer`'s K array as fp32; only for fp32 caches (models that keep their own
    /// values there, like the tests' scripted ones).
    func keys(layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(precision == .float32, "the cache holds halves")
        return k[layer].pointer
    }

    func values(layer: Int) -> UnsafeMutablePointer<Float> {
        precondition(precision == .float32, "the cache holds halves")
        return v[layer].pointer
    }

    /// The arrays as the attention kernel reads them (`rs_attention_args.kv_f16` says which).
    func rawKeys(layer: Int) -> UnsafeRawPointer { UnsafeRawPointer(k[layer].pointer) }
    func rawValues(layer: Int) -> UnsafeRawPointer { UnsafeRawPointer(v[layer].pointer) }

    /// Writes one token's K and V rows (kvDim floats each) into `slot` of `layer`, rounded to
    /// the cache's precision.
    func store(k src: UnsafePointer<Float>, v vsrc: UnsafePointer<Float>, slot: Int32, layer: Int) {
        let at = Int(slot) * kvDim
        switch precision {
        case .float32:
            (k[layer].pointer + at).update(from: src, count: kvDim)
            (v[layer].pointer + at).update(from: vsrc, count: kvDim)
        case .float16:
            rs_fp32_to_fp16_row(src, halves(k[layer]) + at, Int64(kvDim))
            rs_fp32_to_fp16_row(vsrc, halves(v[layer]) + at, Int64(kvDim))
        }
    }

    /// Copies one slot's K and V, every layer: an accepted draft-tree node's KV moves to the
    /// position its depth gives it. Device thread only.
    func copySlot(_ from: Int32, to: Int32) {
        guard from != to else { return }
        let bytes = kvDim * precision.bytes
        func copy(_ buffer: FloatBuffer) {
            let base = UnsafeMutableRawPointer(buffer.pointer)
            (base + Int(to) * bytes).copyMemory(from: base + Int(from) * bytes, byteCount: bytes)
        }
        for l in 0 ..< layers {
            copy(k[l])
            copy(v[l])
        }
    }

    private func halves(_ b: FloatBuffer) -> UnsafeMutablePointer<UInt16> {
        UnsafeMutableRawPointer(b.pointer).assumingMemoryBound(to: UInt16.self)
    }
}
