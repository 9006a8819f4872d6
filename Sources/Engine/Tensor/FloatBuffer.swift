/// An owned, 64-byte aligned, zero-initialized fp32 buffer: activations and caches.
///
/// A class, so that the forward pass can hand out raw pointers that stay valid for the
/// buffer's lifetime without copy-on-write surprises.
public final class FloatBuffer: @unchecked Sendable {
    // Mutated only by the thread that runs the forward pass.
    public private(set) var count: Int
    public private(set) var pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        pointer = Self.allocate(count)
    }

    deinit { pointer.deallocate() }

    /// Grows to at least `count` floats (contents are not kept). No-op when large enough, so
    /// the steady state allocates nothing.
    public func reserve(_ count: Int) {
        guard count > self.count else { return }
        pointer.deallocate()
        pointer = Self.allocate(count)
        self.count = count
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * 4)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }
}
