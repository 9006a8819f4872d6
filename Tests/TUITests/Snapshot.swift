import Foundation
import Testing
@testable import TUI

/// Text snapshots in Tests/TUITests/Snapshots/<name>.txt. A missing file is written and the
/// test fails once, so new snapshots are reviewed before they are trusted; set
/// RINGSIDE_RECORD_SNAPSHOTS=1 to rewrite them all after an intended change.
enum Snapshot {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    static func check(_ buf: ScreenBuffer, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        // Trailing spaces are dropped so editors cannot break the files.
        let text = buf.lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n") + "\n"
        let file = dir.appendingPathComponent(name + ".txt")
        let record = ProcessInfo.processInfo.environment["RINGSIDE_RECORD_SNAPSHOTS"] == "1"
        guard !record, let expected = try? String(contentsOf: file, encoding: .utf8) else {
            try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try? text.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("recorded snapshot \(name); check it and run again", sourceLocation: sourceLocation)
            return
        }
        if expected != text {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = text.split(separator: "\n", omittingEmptySubsequences: false)
            let diff = zip(a.indices, zip(a, b)).filter { $0.1.0 != $0.1.1 }.prefix(5)
                .map { "line \($0.0 + 1):\n  want \($0.1.0)\n  got  \($0.1.1)" }.joined(separator: "\n")
            Issue.record("snapshot \(name) differs:\n\(diff)\nfull output:\n\(text)", sourceLocation: sourceLocation)
        }
    }
}
