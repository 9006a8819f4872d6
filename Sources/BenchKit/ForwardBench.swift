import Engine
import Foundation

/// llama-bench's two figures for this engine (`ringside microbench`): prefill of `promptTokens`
/// random ids in one extend into an empty cache, then, as a test of its own, `decodeTokens`
/// greedy one-token steps from a cache holding `depth` tokens. llama-bench's `-n 128` decodes from
/// an empty cache and its `-d N` from N tokens; decode slows as the context grows (attention
/// reads every cached token), so the two figures compare only at the same depth.
public struct ForwardBench: Sendable {
    public var promptTokens: Int
    public var decodeTokens: Int
    public var depth: Int
    /// Measured repetitions; one more runs first to warm caches and the page map, unreported.
    public var repetitions: Int
    public var seed: UInt64 = 1

    public init(promptTokens: Int = 512, decodeTokens: Int = 128, depth: Int = 0, repetitions: Int = 3) {
        self.promptTokens = promptTokens
        self.decodeTokens = decodeTokens
        self.depth = depth
        self.repetitions = repetitions
    }

    /// Tokens per second of each phase, the median over the measured repetitions.
    public struct Rates: Sendable, Equatable {
        public var prefill: Double
        public var decode: Double
    }

    /// Runs on a runner of its own, sized to the sequence, so that nothing else's KV pages are touched.
    public func run(_ model: any LanguageModel, activations: ActivationFormat) throws -> Rates {
        let runner = SequenceRunner(model: model, kvTokens: max(promptTokens, depth + decodeTokens) + 16)
        runner.activations = activations
        var gen = SeededGenerator(seed: seed)
        let random = { (n: Int) in (0 ..< n).map { _ in Int32(gen.next() % UInt64(model.info.vocabSize)) } }
        let prompt = random(promptTokens), context = random(depth), first = random(1)
        var pp: [Double] = [], tg: [Double] = []
        for _ in 0 ..< repetitions + 1 {
            runner.reset()
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try runner.extend(prompt)
            let t1 = DispatchTime.now().uptimeNanoseconds
            runner.reset()
            if depth > 0 { _ = try runner.extend(context) }
            var next = first[0]
            let t2 = DispatchTime.now().uptimeNanoseconds
            for _ in 0 ..< decodeTokens { next = Sampler.argmax(try runner.extend([next]).row(0)) }
            let t3 = DispatchTime.now().uptimeNanoseconds
            pp.append(Double(promptTokens) / (Double(t1 - t0) / 1e9))
            tg.append(Double(decodeTokens) / (Double(t3 - t2) / 1e9))
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
