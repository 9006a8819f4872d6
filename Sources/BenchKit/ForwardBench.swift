import Engine
import Foundation

/// llama-bench's two figures for this engine (`ringside microbench`): prefill of `promptTokens`
/// random ids in one extend, then `decodeTokens` greedy one-token steps.
public struct ForwardBench: Sendable {
    public var promptTokens: Int
    public var decodeTokens: Int
    /// Measured repetitions; one more runs first to warm caches and the page map, unreported.
    public var repetitions: Int
    public var seed: UInt64 = 1

    public init(promptTokens: Int = 512, decodeTokens: Int = 128, repetitions: Int = 3) {
        self.promptTokens = promptTokens
        self.decodeTokens = decodeTokens
        self.repetitions = repetitions
    }

    /// Tokens per second of each phase, the median over the measured repetitions.
    public struct Rates: Sendable, Equatable {
        public var prefill: Double
        public var decode: Double
    }

    /// Runs on a runner of its own, sized to the sequence, so that nothing else's KV pages are touched.
    public func run(_ model: any LanguageModel, activations: ActivationFormat) throws -> Rates {
        let runner = SequenceRunner(model: model, kvTokens: promptTokens + decodeTokens + 16)
        runner.activations = activations
        var gen = SeededGenerator(seed: seed)
        let prompt = (0 ..< promptTokens).map { _ in Int32(gen.next() % UInt64(model.info.vocabSize)) }
        var pp: [Double] = [], tg: [Double] = []
        for _ in 0 ..< repetitions + 1 {
            runner.reset()
            let t0 = DispatchTime.now().uptimeNanoseconds
            var logits = try runner.extend(prompt)
            let t1 = DispatchTime.now().uptimeNanoseconds
            for _ in 0 ..< decodeTokens { logits = try runner.extend([Sampler.argmax(logits.row(0))]) }
            let t2 = DispatchTime.now().uptimeNanoseconds
            pp.append(Double(promptTokens) / (Double(t1 - t0) / 1e9))
            tg.append(Double(decodeTokens) / (Double(t2 - t1) / 1e9))
        }
        return Rates(prefill: Self.warmMedian(pp), decode: Self.warmMedian(tg))
    }

    /// The median of `samples` without the first (warm-up) one; the lower middle for an even count.
    public static func warmMedian(_ samples: [Double]) -> Double {
        let warm = samples.dropFirst().sorted()
        guard !warm.isEmpty else { return .nan }
        return warm[(warm.count - 1) / 2]
    }
}
