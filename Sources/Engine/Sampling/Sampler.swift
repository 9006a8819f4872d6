import Foundation
import Kernels

/// Picks a token from a row of logits. Keeps its candidate storage between calls, so a
/// decode step does not allocate.
public struct Sampler: Sendable {
    private var ids: [Int32] = []
    private var probs: [Float] = []
    private var order: [Int] = []

    public init() {}

    /// Argmax; ties go to the lowest id, as numpy's argmax does.
    public static func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0 ..< logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return Int32(best)
    }

    /// Samples with temperature, top-k, top-p and min-p. `logits` is only read.
    public mutating func sample(_ logits: UnsafeMutableBufferPointer<Float>, params p: SamplingParams,
                                rng: inout SeededGenerator) -> Int32 {
        if p.isGreedy { return Self.argmax(logits) }
        let n = logits.count
        let invT = 1 / p.temperature
        var maxLogit = -Float.infinity
        for i in 0 ..< n { maxLogit = max(maxLogit, logits[i]) }
        // Tokens more than 30 nats below the best carry less than 1e-13 of its probability
        // each; dropping them first makes top-p a sort of hundreds, not of the vocabulary.
        let cutoff = maxLogit - 30 * p.temperature
        ids.removeAll(keepingCapacity: true)
        probs.removeAll(keepingCapacity: true)
        for i in 0 ..< n where logits[i] >= cutoff {
            ids.append(Int32(i))
            probs.append((logits[i] - maxLogit) * invT)
        }
        let count = probs.count
        let sum = probs.withUnsafeMutableBufferPointer { rs_exp_sub_sum($0.baseAddress, Int64(count), 0) }
        for i in 0 ..< count { probs[i] /= sum }

        // Sort candidates by probability, descending (index sort over a small set).
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0 ..< count)
        order.sort { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && ids[$0] < ids[$1]) }
        var keep = count
        if p.topK > 0 { keep = min(keep, p.topK) }
        if p.minP > 0 {
            let floor = probs[order[0]] * p.minP
            var k = 0
            while k < keep && probs[order[k]] >= floor { k += 1 }
            keep = max(k, 1)
        }
        if p.topP < 1 {
            var acc: Float = 0
            var k = 0
            while k < keep {
                acc += probs[order[k]]
                k += 1
                if acc >= p.topP { break }
            }
            keep = max(k, 1)
        }
        var total: Float = 0
        for k in 0 ..< keep { total += probs[order[k]] }
        var r = rng.nextUnit() * total
        for k in 0 ..< keep {
            r -= probs[order[k]]
            if r < 0 { return ids[order[k]] }
        }
        return ids[order[keep - 1]]
    }

    /// log-softmax value of `id` and the `n` best (id, logprob) pairs of a row of logits.
    public static func logprobs(_ logits: UnsafeMutableBufferPointer<Float>, of id: Int32, top n: Int) -> (Float, [(Int32, Float)]) {
        var maxLogit = -Float.infinity
        for v in logits { maxLogit = max(maxLogit, v) }
        var sum: Double = 0
        for v in logits { sum += Double(Foundation.exp(v - maxLogit)) }
        let lse = maxLogit + Float(log(sum))
        let top = topK(logits, n).map { ($0.0, $0.1 - lse) }
        return (logits[Int(id)] - lse, top)
    }

    /// The `n` largest (id, logit) pairs, highest first (ties to the lower id).
    public static func topK(_ logits: UnsafeMutableBufferPointer<Float>, _ n: Int) -> [(Int32, Float)] {
        guard n > 0 else { return [] }
        var best: [(Int32, Float)] = []
        best.reserveCapacity(n + 1)
        for i in 0 ..< logits.count {
            let v = logits[i]
            if best.count == n, let last = best.last, v <= last.1 { continue }
            var j = best.count
            while j > 0 && best[j - 1].1 < v { j -= 1 }
            best.insert((Int32(i), v), at: j)
            if best.count > n { best.removeLast() }
        }
        return best
    }
}

