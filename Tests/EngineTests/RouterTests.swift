@testable import Engine
import Foundation
import Testing

/// Routers on hand-computed cases (MODELS.md 4.3 and 5).
@Suite("MoE routers")
struct RouterTests {
    static func route(_ kind: RouterKind, logits: [Float], bias: [Float]? = nil, k: Int) -> (ids: [Int32], weights: [Float]) {
        var ids = [Int32](repeating: -1, count: k), weights = [Float](repeating: 0, count: k)
        let router = bias.map { b in b.withUnsafeBufferPointer { Router(kind: kind, experts: logits.count, topK: k, bias: $0.baseAddress) } }
            ?? Router(kind: kind, experts: logits.count, topK: k, bias: nil)
        withExtendedLifetime(bias) {
            logits.withUnsafeBufferPointer { l in router.route(logits: l.baseAddress!, ids: &ids, weights: &weights) }
        }
        return (ids, weights)
    }

    /// 8 experts in 4 groups of 2. Sigmoid scores: e2 0.9, e6 0.75, the rest 0.5. With the bias,
    /// selection scores are e0 .6, e1 .5 | e2 1.2, e3 -.15 | e4 .5, e5 .5 | e6 .95, e7 .65, so
    /// the groups score 1.1, 1.05, 1.0, 1.6 and the best two are g3 and g0: e2, the best expert
    /// of all, sits in a dropped group. Chosen: e6, e7; weights from the unbiased scores,
    /// 0.75 and 0.5 renormalised (0.6, 0.4) and scaled by 2.5.
    static let logits: [Float] = [0, 0, log(9), 0, 0, 0, log(3), 0]
    static let bias: [Float] = [0.1, 0, 0.3, -0.65, 0, 0, 0.2, 0.15]

    @Test func groupLimitedSelectionWithBias() {
        let r = Self.route(.sigmoidGrouped(groups: 4, topkGroups: 2, normalize: true, scaling: 2.5), logits: Self.logits, bias: Self.bias, k: 2)
        #expect(r.ids == [6, 7])
        #expect(abs(r.weights[0] - 1.5) < 1e-6 && abs(r.weights[1] - 1.0) < 1e-6, "\(r.weights)")
    }

    @Test func oneGroupIsPlainTopKOnBiasedScores() {
        // Without group limits e2 (1.2) and e6 (0.95) win; weights 0.9 and 0.75 over 1.65, x 2.5.
        let r = Self.route(.sigmoidGrouped(groups: 1, topkGroups: 1, normalize: true, scaling: 2.5), logits: Self.logits, bias: Self.bias, k: 2)
        #expect(r.ids == [2, 6])
        #expect(abs(r.weights[0] - 2.5 * 0.9 / 1.65) < 1e-6 && abs(r.weights[1] - 2.5 * 0.75 / 1.65) < 1e-6, "\(r.weights)")
    }

    @Test func biasOnlySelectsItNeverWeighs() {
        // Unnormalised, unscaled: the weights are exactly the sigmoid scores, bias or not.
        let r = Self.route(.sigmoidGrouped(groups: 1, topkGroups: 1, normalize: false, scaling: 1), logits: Self.logits, bias: Self.bias, k: 3)
        #expect(r.ids == [2, 6, 7])
        #expect(r.weights.map { ($0 * 1e6).rounded() / 1e6 } == [0.9, 0.75, 0.5])
    }

    @Test func softmaxTopKWithAndWithoutRenormalisation() {
        // probabilities of [1, 2, 3, 0] are e^x / 31.192875; the top two are e2 and e1.
        let normed = Self.route(.softmax(normalize: true), logits: [1, 2, 3, 0], k: 2)
        #expect(normed.ids == [2, 1])
        #expect(abs(normed.weights[0] - 0.7310586) < 1e-6 && abs(normed.weights[1] - 0.2689414) < 1e-6)
        let raw = Self.route(.softmax(normalize: false), logits: [1, 2, 3, 0], k: 2)
        #expect(abs(raw.weights[0] - 0.6439142) < 1e-6 && abs(raw.weights[1] - 0.2368828) < 1e-6)
    }
}
