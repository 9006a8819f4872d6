import Engine
import Foundation

/// What a decode step of k tokens costs against a step of one, at the same context: the price of
/// verifying k - 1 drafts (`ringside microbench --step-widths`). After a prompt of random ids,
/// each width's step (logits for all its tokens) runs `steps` times and is rolled back; widths are
/// interleaved within each repetition, so a change in the machine's load hits all of them alike.
public struct StepWidthBench: Sendable {
    public var widths: [Int]
    public var context: Int
    public var steps: Int
    /// Measured repetitions; one more runs first to warm caches, unreported.
    public var repetitions: Int
    public var seed: UInt64 = 1

    public init(widths: [Int], context: Int = 256, steps: Int = 8, repetitions: Int = 3) {
        self.widths = widths
        self.context = context
        self.steps = steps
        self.repetitions = repetitions
    }

    /// One width's step: milliseconds of wall time and of process CPU time (spinning pool
    /// workers included: on a loaded machine it still says what the work costs, where wall time
    /// also says how long the neighbours took), medians over the repetitions.
    public struct Row: Codable, Sendable, Equatable {
        public var tokens: Int
        public var ms: Double
        public var cpuMs: Double

        enum CodingKeys: String, CodingKey {
            case tokens, ms
            case cpuMs = "cpu_ms"
        }
    }

    /// `microbench --step-widths --json`.
    public struct Report: Codable, Sendable, Equatable {
        public var model: String
        public var context: Int
        public var steps: [Row]

        public init(model: String, context: Int, steps: [Row]) {
            self.model = model
            self.context = context
            self.steps = steps
        }
    }

    public func run(_ model: any LanguageModel, activations: ActivationFormat) throws -> [Row] {
        let runner = SequenceRunner(model: model, kvTokens: context + (widths.max() ?? 1) + 16)
        runner.activations = activations
        var gen = SeededGenerator(seed: seed)
        try runner.extend((0 ..< context).map { _ in Int32(gen.next() % UInt64(model.info.vocabSize)) })
        var wall = [[Double]](repeating: [], count: widths.count), cpu = wall
        for _ in 0 ..< repetitions + 1 {
            for (i, w) in widths.enumerated() {
                let tokens = (0 ..< w).map { _ in Int32(gen.next() % UInt64(model.info.vocabSize)) }
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = Self.cpuMs()
                for _ in 0 ..< steps {
                    try runner.extend(tokens, allLogits: true)
                    runner.truncate(to: context)
                }
                let t1 = DispatchTime.now().uptimeNanoseconds, c1 = Self.cpuMs()
                wall[i].append(Double(t1 - t0) / 1e6 / Double(steps))
                cpu[i].append((c1 - c0) / Double(steps))
            }
        }
        return widths.indices.map { Row(tokens: widths[$0], ms: ForwardBench.warmMedian(wall[$0]), cpuMs: ForwardBench.warmMedian(cpu[$0])) }
    }

    static func cpuMs() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    /// The table microbench prints: each width against the one-token step, when it was timed.
    public static func lines(_ rows: [Row]) -> [String] {
        let one = rows.first { $0.tokens == 1 }
        var out = ["tokens   ms/step   ms/token   x one-token step   cpu ms/step   x one-token cpu"]
        for r in rows {
            out.append(String(format: "%6d %9.2f %10.2f %18.2f %13.2f %17.2f", r.tokens, r.ms, r.ms / Double(r.tokens),
                              r.ms / (one?.ms ?? .nan), r.cpuMs, r.cpuMs / (one?.cpuMs ?? .nan)))
        }
        return out
    }
}
