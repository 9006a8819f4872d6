import Foundation
import Testing
@testable import Remote

/// llama-server's `/slots`, captured from a real server (Fixtures/SOURCES.md), and the token
/// counts between two polls that give the live throughput of `ringside top`.
@Suite("llama-server slots")
struct LlamaSlotsTests {
    static func slots(_ name: String) throws -> LlamaSlots {
        try #require(LlamaSlots(text: try MetricsTests.fixture(name)))
    }

    @Test func twoPollsOfARealServerOneSecondApart() throws {
        let a = try Self.slots("llamacpp-slots-a.json"), b = try Self.slots("llamacpp-slots-b.json")
        #expect(a.slots == [LlamaSlots.Slot(id: 0, task: 1, decoded: 39, processing: true),
                            LlamaSlots.Slot(id: 1, task: 0, decoded: 39, processing: true)])
        #expect(b.processing == 2)
        #expect(b.generated(since: a) == (44 - 39) * 2)
        // The same requests cancelled: the slots keep their tasks with the counts reset.
        let c = try Self.slots("llamacpp-slots-c.json")
        #expect(c.processing == 0 && c.slots.allSatisfy { $0.decoded == 0 && $0.task != nil })
        #expect(c.generated(since: b) == 0, "a reset count is no negative rate")
    }

    @Test func aTaskStartedSinceThePreviousPollCountsWhole() {
        let before = LlamaSlots(slots: [.init(id: 0, task: 5, decoded: 30, processing: true),
                                        .init(id: 1, task: nil, decoded: 0, processing: false)])
        let after = LlamaSlots(slots: [.init(id: 0, task: 7, decoded: 12, processing: true),
                                       .init(id: 1, task: 8, decoded: 3, processing: true),
                                       .init(id: 2, task: 9, decoded: 4, processing: true)])
        #expect(after.generated(since: before) == 12 + 3 + 4)
        #expect(before.generated(since: after) == 30, "slot 0's task 5 is not the task 7 it was compared with")
    }

    @Test func malformedAnswersAreRefused() {
        #expect(LlamaSlots(text: "not json") == nil)
        #expect(LlamaSlots(text: #"{"id": 0}"#) == nil, "an object, not a list")
        #expect(LlamaSlots(text: #"[{"id": "zero"}]"#) == nil)
        #expect(LlamaSlots(text: "[]")?.slots == [])
        #expect(LlamaSlots(text: #"[{"id": 3, "is_processing": false}]"#)?.slots == [.init(id: 3, task: nil, decoded: 0, processing: false)])
    }
}
