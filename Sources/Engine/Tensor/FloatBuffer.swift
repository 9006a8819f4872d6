#if canImport(Glibc)
import Glibc
#endif

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

    deinit { Self.free(pointer, count) }

    /// Grows to at least `count` floats (contents are not kept). No-op when large enough, so
    /// the steady state allocates nothing.
    public func reserve(_ count: Int) {
        guard count > self.count else { return }
        Self.free(pointer, self.count)
        pointer = Self.allocate(count)
        self.count = count
    }

    /// Big buffers (the KV pool: gigabytes) come straight from the kernel's zero pages, so
    /// they cost nothing until a slot is first written; zeroing them here took seconds.
    private static let mapThreshold = 1 << 20

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(count, 1) * 4
        if bytes >= mapThreshold {
            let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if let p, p != MAP_FAILED { return p.bindMemory(to: Float.self, capacity: max(count, 1)) }
            fatalError("out of memory: could not map \(bytes) bytes")
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1) * 4)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    private static func free(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let bytes = max(count, 1) * 4
        if bytes >= mapThreshold { munmap(p, bytes) } else { p.deallocate() }
    }
}
