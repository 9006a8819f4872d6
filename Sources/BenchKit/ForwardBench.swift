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

    /// Tokens per second of each phase, the median over the measured repetitions, and how the
    /// decode steps of the measured repetitions used the worker pool.
    public struct Rates: Sendable, Equatable {
        public var prefill: Double
        public var decode: Double
        public var decodeDispatch: DecodeDispatch
    }

    /// Runs on a runner of its own, sized to the sequence, so that nothing else's KV pages are touched.
    public func run(_ model: any LanguageModel, activations: ActivationFormat) throws -> Rates {
        let runner = SequenceRunner(model: model, kvTokens: max(promptTokens, depth + decodeTokens) + 16)
        runner.activations = activations
        var gen = SeededGenerator(seed: seed)
        let random = { (n: Int) in (0 ..< n).map { _ in Int32(gen.next() % UInt64(model.info.vocabSize)) } }
        let prompt = random(promptTokens), context = random(depth), first = random(1)
        var pp: [Double] = [], tg: [Double] = []
        var pool = PoolCounters(), decodeNs = 0
        for rep in 0 ..< repetitions + 1 {
            runner.reset()
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try runner.extend(prompt)
            let t1 = DispatchTime.now().uptimeNanoseconds
            runner.reset()
            if depth > 0 { _ = try runner.extend(context) }
            var next = first[0]
            let t2 = DispatchTime.now().uptimeNanoseconds
            let before = PoolCounters.now()
            for _ in 0 ..< decodeTokens { next = Sampler.argmax(try runner.extend([next]).row(0)) }
            let after = PoolCounters.now()
            let t3 = DispatchTime.now().uptimeNanoseconds
            pp.append(Double(promptTokens) / (Double(t1 - t0) / 1e9))
            tg.append(Double(decodeTokens) / (Double(t3 - t2) / 1e9))
            if rep > 0 {
                pool = pool + (after - before)
                decodeNs += Int(t3 - t2)
            }
        }
        return Rates(prefill: Self.warmMedian(pp), decode: Self.warmMedian(tg),
                     decodeDispatch: DecodeDispatch(pool, steps: repetitions * decodeTokens, ns: decodeNs))
    }

    /// The median of `samples` without the first (warm-up) one; the lower middle for an even count.
    public static func warmMedian(_ samples: [Double]) -> Double {
        let warm = samples.dropFirst().sorted()
        guard !warm.isEmpty else { return .nan }
        return warm[(warm.count - 1) / 2]
    }
}

/// Where a decode step's time went, per step over the measured repetitions: how many parallel
/// regions (sync points) it issued, how many kernels ran on the caller alone, how often a
/// stalled worker sent the pool into its serial backoff, and the time inside and outside kernels.
public struct DecodeDispatch: Codable, Sendable, Equatable {
    public var steps: Int
    public var regionsPerStep: Double
    public var smallSerialPerStep: Double
    public var backoffSerialPerStep: Double
    /// Regions a worker finished far behind the caller, over all `steps` (not per step).
    public var stalls: Int
    /// Workers left out of a region (not started when the caller was done), per step.
    public var leftOutPerStep: Double
    public var stepUs: Double
    /// Per step: wall time in regions, of it the caller's wait for workers, kernels on the caller
    /// alone, and the rest (norms, RoPE, KV writes, sampling: everything outside the kernels).
    public var regionUs: Double
    public var waitUs: Double
    public var serialUs: Double
    public var outsideUs: Double

    enum CodingKeys: String, CodingKey {
        case steps, stalls
        case leftOutPerStep = "left_out_per_step"
        case regionsPerStep = "regions_per_step", smallSerialPerStep = "small_serial_per_step"
        case backoffSerialPerStep = "backoff_serial_per_step", stepUs = "step_us", regionUs = "region_us"
        case waitUs = "wait_us", serialUs = "serial_us", outsideUs = "outside_us"
    }

    public init(_ c: PoolCounters, steps: Int, ns: Int) {
        let n = Double(max(steps, 1))
        self.steps = steps
        regionsPerStep = Double(c.regions) / n
        smallSerialPerStep = Double(c.smallSerial) / n
        backoffSerialPerStep = Double(c.backoffSerial) / n
        stalls = c.stalls
        leftOutPerStep = Double(c.leftOut) / n
        stepUs = Double(ns) / n / 1e3
        regionUs = Double(c.regionNs) / n / 1e3
        waitUs = Double(c.waitNs) / n / 1e3
        serialUs = Double(c.serialNs) / n / 1e3
        outsideUs = stepUs - regionUs - serialUs
    }

    /// One line for microbench's text output.
    public var summary: String {
        String(format: "decode dispatch: %.1f regions/step (%.1f workers left out), %.1f small kernels on the caller, %.1f regions in stall backoff (%d stalls in %d steps); step %.0f us = regions %.0f (waiting for workers %.0f) + caller-only %.0f + outside kernels %.0f",
               regionsPerStep, leftOutPerStep, smallSerialPerStep, backoffSerialPerStep, stalls, steps, stepUs, regionUs, waitUs,
               serialUs, outsideUs)
    }
}
