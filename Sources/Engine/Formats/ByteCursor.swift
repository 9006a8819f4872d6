/// Bounds-checked little-endian reads over a mapped file. Every read that would run past the
/// end throws `.truncated`, naming what was being read, instead of trapping.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset: Int

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws(ModelFileError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw .truncated(path: path, what: what(), offset: offset) }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return v
    }

    mutating func skip(_ n: Int, _ what: @autoclosure () -> String) throws(ModelFileError) {
        guard n >= 0, n <= remaining else { throw .truncated(path: path, what: what(), offset: offset) }
        offset += n
    }

    mutating func string(_ what: @autoclosure () -> String) throws(ModelFileError) -> String {
        let start = offset
        let len = try read(UInt64.self, what())
        guard len <= UInt64(remaining) else { throw .truncated(path: path, what: what(), offset: start) }
        let n = Int(len)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + n])
        guard let s = String(validating: slice.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw .invalidString(path: path, offset: start)
        }
        offset += n
        return s
    }
}
