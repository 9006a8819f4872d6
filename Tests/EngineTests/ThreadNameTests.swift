import Foundation
import Kernels
import Testing
@testable import Engine

/// The engine's threads carry their names in the kernel (`top -H`, `perf sched`, gdb).
@Suite("thread names")
struct ThreadNameTests {
    static func names() -> [String] {
        let dir = "/proc/self/task"
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return tasks.compactMap { try? String(contentsOfFile: "\(dir)/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .newlines) }
    }

    @Test func theHostAndDeviceThreadsAreNamed() async throws {
        let (engine, _) = try AbortTests.engine()
        defer { engine.shutdown() }
        // Both threads start with the engine; their names are set as they begin.
        var seen: [String] = []
        for _ in 0 ..< 200 {
            seen = Self.names()
            if seen.contains("ringside-host") && seen.contains("ringside-device") { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(seen.contains("ringside-host"), "\(seen)")
        #expect(seen.contains("ringside-device"), "\(seen)")
    }

    @Test func aThreadNamesItselfAndKeepsFifteenBytes() async {
        let got = await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
            let t = Thread {
                rs_name_thread("ringside-a-name-longer-than-fifteen")
                let own = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)
                done.resume(returning: own?.trimmingCharacters(in: .newlines) ?? "")
            }
            t.start()
        }
        #expect(got == "ringside-a-name")
    }
}
