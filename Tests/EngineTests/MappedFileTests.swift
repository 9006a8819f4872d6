import Foundation
import Testing
@testable import Engine

/// `MappedFile.dropPages`: the pages leave the process's memory, not the map; every byte of
/// the file still reads as written, inside the range and around its unaligned ends.
@Suite("memory-mapped files")
struct MappedFileTests {
    @Test func droppedPagesStillReadAsTheFile() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = 5 * page + 123
        let want = (0 ..< size).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-mapped-\(UUID().uuidString)")
        try Data(want).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try MappedFile(path: url.path)
        let base = file.bytes.baseAddress!
        #expect(Array(file.bytes) == want)  // every page resident and read once
        file.dropPages(base + page / 2, count: 3 * page)  // two whole pages inside
        file.dropPages(base, count: size)
        file.dropPages(base + 7, count: 5)  // no whole page: nothing to do
        #expect(Array(file.bytes) == want)
    }
}
