@testable import Engine
import Foundation
import Testing

/// Seeded draws of `Sampler` against the exact distribution each setting defines, by a
/// chi-square goodness-of-fit test at a false-alarm rate of 1e-6 per setting (about 1e-5 for
/// the whole suite over random seeds; with the fixed seeds below the outcome is reproducible).
/// A token the setting excludes must never be drawn at all, so an ignored top-k, top-p or
/// min-p fails outright, and a wrong temperature or penalty shifts the counts far past the
/// threshold (40 000 draws resolve probability differences of about 1%).
@Suite("sampling distributions")
struct SamplingDistributionTests {
    /// Logits of a 10-token vocabulary, best tokens not at the lowest ids (an ordering bug
    /// that mixes ids and ranks shows).
    static let logits: [Float] = [0.5, -1.0, 2.0, 1.2, -3.0, 1.5, 0.0, 1.0, -2.0, -0.5]
    static let draws = 40_000

    /// `chi2.isf(1e-6, df)` for df = 1...15 (scipy.stats 1.17:
    /// `python3 -c "from scipy.stats import chi2; print([chi2.isf(1e-6, d) for d in range(1, 16)])"`).
    static let chiSquareCritical: [Double] = [23.928, 27.631, 30.665, 33.377, 35.888, 38.258, 40.522, 42.701,
                                              44.811, 46.863, 48.866, 50.825, 52.747, 54.635, 56.493]

    /// The target written out independently of the sampler, with SGLang's definitions on the
    /// temperature-scaled probabilities p (sorted descending): a token is dropped when its rank
    /// is >= top_k, when the probability mass before it already exceeds top_p, or when
    /// p < min_p * p_max; what is left is renormalized.
    static func target(_ logits: [Float], temperature: Double, topK: Int = 0, topP: Double = 1, minP: Double = 0) -> [Double] {
        let scaled = logits.map { Double($0) / temperature }
        let m = scaled.max()!
        let e = scaled.map { exp($0 - m) }
        let z = e.reduce(0, +)
        let p = e.map { $0 / z }
        let order = p.indices.sorted { p[$0] > p[$1] }
        var keep = [Bool](repeating: false, count: p.count)
        var before = 0.0
        for (rank, i) in order.enumerated() {
            let kept = (topK == 0 || rank < topK) && before <= topP && p[i] >= minP * p[order[0]]
            keep[i] = kept
            before += p[i]
        }
        let total = p.indices.filter { keep[$0] }.map { p[$0] }.reduce(0, +)
        return p.indices.map { keep[$0] ? p[$0] / total : 0 }
    }

    /// Draws `draws` tokens and checks them against `want`.
    static func check(_ name: String, logits: [Float], params: SamplingParams, want: [Double], seed: UInt64,
                      prepare: (UnsafeMutableBufferPointer<Float>) -> Void = { _ in }) {
        var sampler = Sampler()
        var rng = SeededGenerator(seed: seed)
        var counts = [Int](repeating: 0, count: logits.count)
        var row = logits
        for _ in 0 ..< draws {
            row = logits
            let id = row.withUnsafeMutableBufferPointer { b -> Int32 in
                prepare(b)
                return sampler.sample(b, params: params, rng: &rng)
            }
            counts[Int(id)] += 1
        }
        let forbidden = want.indices.filter { want[$0] == 0 && counts[$0] > 0 }
        #expect(forbidden.isEmpty, "\(name): drew excluded tokens \(forbidden.map { ($0, counts[$0]) })")
        // Bins expected to hold fewer than 5 draws are pooled (smallest first), as the
        // chi-square approximation needs.
        var bins: [(observed: Double, expected: Double)] = want.indices.filter { want[$0] > 0 }
            .map { (Double(counts[$0]), Double(draws) * want[$0]) }
            .sorted { $0.1 < $1.1 }
        while bins.count > 1 && bins[0].expected < 5 {
            let a = bins.removeFirst()
            bins[0] = (bins[0].observed + a.observed, bins[0].expected + a.expected)
            bins.sort { $0.expected < $1.expected }
        }
        if bins.count > 1 {
            let chi2 = bins.reduce(0.0) { $0 + ($1.observed - $1.expected) * ($1.observed - $1.expected) / $1.expected }
            let critical = chiSquareCritical[bins.count - 2]
            #expect(chi2 < critical, "\(name): chi-square \(chi2) >= \(critical) (df \(bins.count - 1)); counts \(counts), want \(want.map { Double(draws) * $0 })")
        } else {
            #expect(bins[0].observed == Double(draws), "\(name): one token left, every draw must be it: \(counts)")
        }
    }

    struct Setting: Sendable, CustomTestStringConvertible {
        let name: String
        let temperature: Float
        var topK = 0
        var topP: Float = 1
        var minP: Float = 0
        var testDescription: String { name }
    }

    // Boundaries sit well away from the thresholds (no probability within 1% of a cut), so
    // float rounding cannot move a token across.
    static let settings: [Setting] = [
        Setting(name: "temperature 1", temperature: 1),
        Setting(name: "temperature 0.5", temperature: 0.5),
        Setting(name: "temperature 2", temperature: 2),
        Setting(name: "top-k 3", temperature: 1, topK: 3),
        Setting(name: "top-p 0.8", temperature: 1, topP: 0.8),
        Setting(name: "top-p 0.5 at temperature 2", temperature: 2, topP: 0.5),
        Setting(name: "min-p 0.3", temperature: 1, minP: 0.3),
        Setting(name: "min-p 0.08 at temperature 0.7", temperature: 0.7, minP: 0.08),
        Setting(name: "top-k 6, top-p 0.85, min-p 0.1", temperature: 1, topK: 6, topP: 0.85, minP: 0.1),
        Setting(name: "top-k 2 under top-p 0.93", temperature: 1.3, topK: 2, topP: 0.93),
    ]

    @Test("draws follow temperature, top-k, top-p and min-p", arguments: settings)
    func filters(_ s: Setting) {
        let params = SamplingParams(temperature: s.temperature, topK: s.topK, topP: s.topP, minP: s.minP)
        let want = Self.target(Self.logits, temperature: Double(s.temperature), topK: s.topK, topP: Double(s.topP), minP: Double(s.minP))
        // Each setting must actually cut something or nothing, as intended, for the test to mean anything.
        let kept = want.filter { $0 > 0 }.count
        if s.topK > 0 || s.topP < 1 || s.minP > 0 { #expect(kept < Self.logits.count, "\(s.name) cuts nothing") }
        Self.check(s.name, logits: Self.logits, params: params, want: want, seed: 1000 + UInt64(s.name.utf8.count))
    }

    @Test func thresholdsAreFarFromEveryBoundary() {
        // Guards the settings above: a cut that lands within 1% of a probability would make the
        // test depend on rounding rather than on the sampler.
        for s in Self.settings {
            let scaled = Self.logits.map { Double($0) / Double(s.temperature) }
            let m = scaled.max()!
            let e = scaled.map { exp($0 - m) }
            let z = e.reduce(0, +)
            let p = e.map { $0 / z }.sorted(by: >)
            var before = 0.0
            for q in p {
                if s.topP < 1 { #expect(abs(before - Double(s.topP)) > 0.01, "\(s.name): cumulative \(before)") }
                if s.minP > 0 { #expect(abs(q / p[0] - Double(s.minP)) > 0.01, "\(s.name): ratio \(q / p[0])") }
                before += q
            }
        }
    }

    @Test func frequencyAndPresencePenalties() {
        // OpenAI: logit - frequency * count - presence * [count > 0], for generated tokens only.
        let params = SamplingParams(temperature: 1, frequencyPenalty: 0.4, presencePenalty: 0.7)
        let state = SamplingState(params: params, topLogprobs: nil, prompt: [5, 6], vocabSize: Self.logits.count)
        for t: Int32 in [2, 2, 2, 3, 9] { state.accept(t) }
        var penalized = Self.logits.map(Double.init)
        penalized[2] -= 0.4 * 3 + 0.7
        penalized[3] -= 0.4 * 1 + 0.7
        penalized[9] -= 0.4 * 1 + 0.7
        let want = Self.target(penalized.map { Float($0) }, temperature: 1)
        Self.check("frequency and presence", logits: Self.logits, params: params, want: want, seed: 77) { state.applyPenalties($0) }
    }

    @Test func repetitionPenaltyCoversPromptAndOutput() {
        // HF / CTRL: a seen token's positive logit is divided by the penalty, a negative one
        // multiplied; prompt tokens count as seen.
        let params = SamplingParams(temperature: 0.8, repetitionPenalty: 1.8)
        let state = SamplingState(params: params, topLogprobs: nil, prompt: [2, 9], vocabSize: Self.logits.count)
        state.accept(5)
        var penalized = Self.logits.map(Double.init)
        penalized[2] /= 1.8  // 2.0, prompt
        penalized[9] *= 1.8  // -0.5, prompt
        penalized[5] /= 1.8  // 1.5, generated
        let want = Self.target(penalized.map { Float($0) }, temperature: 0.8)
        Self.check("repetition", logits: Self.logits, params: params, want: want, seed: 78) { state.applyPenalties($0) }
    }

    @Test func greedyAndTopKOneTakeTheArgmaxWithTiesToTheLowestID() {
        var sampler = Sampler()
        var rng = SeededGenerator(seed: 1)
        var tied: [Float] = [0, 3, 1, 3, -2]
        for params in [SamplingParams(temperature: 0), SamplingParams(temperature: 1.5, topK: 1)] {
            for _ in 0 ..< 100 {
                #expect(tied.withUnsafeMutableBufferPointer { sampler.sample($0, params: params, rng: &rng) } == 1)
            }
        }
    }
}
