/// The paged KV pool: for every layer, a K and a V array of `pages * pageSize` slots of
/// `kvDim` floats. A slot is `page * pageSize + offset`; sequences own whole pages.
///
/// fp32 by default, so that attention sees exactly what the reference computes.
public final class KVCache: @unchecked Sendable {
    // The arrays are written only by the device thread during a forward pass; the page
    // allocator is owned by whoever schedules (one thread).
    public let layers: Int
    public let kvDim: Int
    public let pageSize: Int
    public let pageCount: Int
    let k: [FloatBuffer]
    let v: [FloatBuffer]
    public var allocator: PageAllocator

    public var slotCount: Int { pageCount * pageSize }
    /// Bytes of K and V for one token over all layers.
    public var bytesPerToken: Int { layers * kvDim * 2 * 4 }

    public init(layers: Int, kvDim: Int, tokens: Int, pageSize: Int = 16) {
        precondition(pageSize > 0 && tokens > 0 && layers > 0 && kvDim > 0)
        self.layers = layers
        self.kvDim = kvDim
        self.pageSize = pageSize
        pageCount = (tokens + pageSize - 1) / pageSize
        let slots = pageCount * pageSize
        k = (0 ..< layers).map { _ in FloatBuffer(count: slots * kvDim) }
        v = (0 ..< layers).map { _ in FloatBuffer(count: slots * kvDim) }
        allocator = PageAllocator(pageCount: pageCount)
    }

    func keys(layer: Int) -> UnsafeMutablePointer<Float> { k[layer].pointer }

    /// Copies one slot's K and V, every layer: an accepted draft-tree node's KV moves to the
    /// position its depth gives it. Device thread only.
    func copySlot(_ from: Int32, to: Int32) {
        guard from != to else { return }
        for l in 0 ..< layers {
            (k[l].pointer + Int(to) * kvDim).update(from: k[l].pointer + Int(from) * kvDim, count: kvDim)
            (v[l].pointer + Int(to) * kvDim).update(from: v[l].pointer + Int(from) * kvDim, count: kvDim)
        }
    }
    func values(layer: Int) -> UnsafeMutablePointer<Float> { v[layer].pointer }
}
