#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file.
///
/// Model weights are used in place from the map, so loading a model costs no copy and the
/// page cache is shared between processes that open the same file.
public final class MappedFile: @unchecked Sendable {
    // Immutable after init, and the mapping is read-only: safe to share across threads.
    public let path: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws(ModelFileError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, reason: "not a regular file") }
        let size = Int(st.st_size)
        guard size > 0 else { throw .truncated(path: path, what: "file header", offset: 0) }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw .io(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// Takes the whole pages inside `count` bytes at `start` (a range of this map) out of the
    /// process's memory: a reader that keeps a copy of them (interleaved weights) no longer
    /// pays for both. The file stays mapped, so a later read of the range faults its pages back
    /// in from the file: nothing changes but the resident size.
    public func dropPages(_ start: UnsafeRawPointer, count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let base = Int(bitPattern: bytes.baseAddress), from = Int(bitPattern: start)
        precondition(from >= base && from + count <= base + bytes.count, "a range of this map")
        let first = (from + page - 1) / page * page, end = (from + count) / page * page
        guard end > first else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }
}
