import Engine
import Foundation
import Testing
@testable import BenchKit

@Suite("microbench's measuring parts")
struct MicrobenchPartsTests {
    @Test func warmMedianDropsTheWarmUpAndTakesTheLowerMiddle() {
        #expect(ForwardBench.warmMedian([100, 3, 1, 2]) == 2)
        #expect(ForwardBench.warmMedian([100, 4, 1, 3, 2]) == 2)
        #expect(ForwardBench.warmMedian([100, 7]) == 7)
        #expect(ForwardBench.warmMedian([100]).isNaN)
    }

    @Test func forwardBenchRunsTinyRing() throws {
        let loaded = try LoadedModel(path: ModelCatalog().resolve("tiny-ring"))
        let rates = try ForwardBench(promptTokens: 12, decodeTokens: 5, repetitions: 2).run(loaded.model, activations: .int16)
        #expect(rates.prefill.isFinite && rates.prefill > 0)
        #expect(rates.decode.isFinite && rates.decode > 0)
    }

    @Test func forwardBenchPastTheContextIsAnError() throws {
        let loaded = try LoadedModel(path: ModelCatalog().resolve("tiny-ring"))
        let ctx = loaded.model.info.contextLength
        #expect(throws: SequenceError.self) {
            try ForwardBench(promptTokens: ctx + 1, decodeTokens: 1, repetitions: 1).run(loaded.model, activations: .int16)
        }
    }

    /// The decode figure starts from `depth` cached tokens, not after the prefill's prompt: a
    /// depth whose decode would pass the context fails, however short the prompt, and one that
    /// fits runs however long the prompt (a decode after the prompt would not fit).
    @Test func forwardBenchDecodesFromItsOwnDepth() throws {
        let loaded = try LoadedModel(path: ModelCatalog().resolve("tiny-ring"))
        let ctx = loaded.model.info.contextLength
        #expect(throws: SequenceError.self) {
            try ForwardBench(promptTokens: 4, decodeTokens: 8, depth: ctx - 4, repetitions: 1).run(loaded.model, activations: .int16)
        }
        let rates = try ForwardBench(promptTokens: ctx - 2, decodeTokens: 8, depth: 0, repetitions: 1).run(loaded.model, activations: .int16)
        #expect(rates.decode.isFinite && rates.decode > 0)
    }

    @Test func stepWidthBenchTimesEachWidthAndRollsBack() throws {
        let loaded = try LoadedModel(path: ModelCatalog().resolve("tiny-ring"))
        let rows = try StepWidthBench(widths: [1, 4, 2], context: 20, steps: 2, repetitions: 1).run(loaded.model, activations: .int16)
        #expect(rows.map(\.tokens) == [1, 4, 2])
        #expect(rows.allSatisfy { $0.ms > 0 && $0.ms.isFinite && $0.cpuMs >= 0 })
        let lines = StepWidthBench.lines(rows)
        #expect(lines.count == 4 && lines[1].hasPrefix("     1 ") && lines[1].contains("1.00"))
        // Rolled back after every step: a context at the model's limit still takes each width.
        let ctx = loaded.model.info.contextLength
        #expect(throws: Never.self) { try StepWidthBench(widths: [4], context: ctx - 4, steps: 3, repetitions: 1).run(loaded.model, activations: .int16) }
    }

    @Test func moeRowRatiosAndLine() {
        let row = MoETable.Row(tokens: 16, ms: [.grouped: 2, .dense: 8, .naive: 3])
        #expect(row.naiveOverGrouped == 1.5)
        #expect(row.denseOverGrouped == 4)
        #expect(row.line == "    16         2.00        8.00        3.00            1.50           4.00")
        let partial = MoETable.Row(tokens: 1, ms: [.grouped: 2])
        #expect(partial.naiveOverGrouped.isNaN)
        #expect(partial.line.contains("nan"))
    }

    @Test func moeTableTimesOnlyTheChosenPaths() {
        let bench = MoEBenchmark(hidden: 64, experts: 8, inter: 32, topK: 2, groups: 1, topkGroups: 1)
        var rng = SeededGenerator(seed: 3)
        let row = MoETable(paths: [.grouped, .naive], repetitions: 1).row(bench, tokens: 4, rng: &rng)
        #expect(Set(row.ms.keys) == [.grouped, .naive])
        #expect(row.ms.values.allSatisfy { $0 > 0 && $0.isFinite })
    }

    @Test func tokenizerBenchCountsWhatItEncodes() throws {
        let loaded = try LoadedModel(path: ModelCatalog().resolve("tiny-ring"))
        let text = "Hello, world! Привет, мир! 東京"
        let r = TokenizerBench(runs: 2).run(loaded.tokenizer, text: text)
        #expect(r.bytes == text.utf8.count)
        #expect(r.tokens == loaded.tokenizer.encode(text, parseSpecial: false).count)
        #expect(r.megabytesPerS > 0)
        #expect(TokenizerBench.sample.utf8.count >= 100_000)
    }

    @Test func stepWidthReportKeysAndEscaping() throws {
        let report = StepWidthBench.Report(model: #"a "b""#, context: 256, steps: [.init(tokens: 4, ms: 2.5, cpuMs: 4.75)])
        let json = try BenchJSON.encode(report)
        #expect(json == #"{"context":256,"model":"a \"b\"","steps":[{"cpu_ms":4.75,"ms":2.5,"tokens":4}]}"#)
        #expect(try JSONDecoder().decode(StepWidthBench.Report.self, from: Data(json.utf8)) == report)
    }
}
