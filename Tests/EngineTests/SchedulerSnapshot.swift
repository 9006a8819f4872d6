@testable import Engine
import Foundation

/// The scheduler's page and row accounting, read on its own thread.
struct SchedulerSnapshot: Sendable, CustomStringConvertible {
    var idle: Bool
    var lockedPages, freePages, evictablePages, pages, freeRows, rows: Int
    var violations: [String]

    var description: String {
        "idle \(idle), locked \(lockedPages), free \(freePages) + evictable \(evictablePages) of \(pages) pages, \(freeRows) of \(rows) rows free"
    }

    /// Reads the state between two steps of the host thread.
    static func take(_ engine: Engine) async -> SchedulerSnapshot {
        await withCheckedContinuation { done in
            engine.scheduler.send(.inspect { s in
                done.resume(returning: SchedulerSnapshot(
                    idle: s.idle, lockedPages: s.tree?.lockedPages ?? 0, freePages: s.cache.allocator.freePages,
                    evictablePages: s.tree?.evictablePages ?? 0, pages: s.cache.pageCount,
                    freeRows: s.slots.freeRowCount, rows: s.slots.rows, violations: s.invariantViolations))
            })
        }
    }

    /// Waits until the engine has nothing left to do (cancellations processed, every request
    /// retired), however long a busy machine takes, and returns that state.
    static func whenIdle(_ engine: Engine) async throws -> SchedulerSnapshot {
        while true {
            let s = await take(engine)
            if s.idle { return s }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Everything given back: no locked radix page, every page free or evictable, every row free.
    var clean: Bool { idle && lockedPages == 0 && freePages + evictablePages == pages && freeRows == rows && violations.isEmpty }
}
