import Foundation

/// How a Mixture-of-Experts layer turns router logits into (expert, weight) choices.
public enum RouterKind: Sendable, Equatable {
    /// BailingMoeV2 / DeepSeek-V3 (MODELS.md 4.3): sigmoid scores; `bias` (expert_bias) is added
    /// for selection only; experts are picked within the `topkGroups` best of `groups` groups
    /// (a group scores the sum of its two best biased scores); the chosen experts' unbiased
    /// scores are renormalised and multiplied by `scaling`.
    case sigmoidGrouped(groups: Int, topkGroups: Int, normalize: Bool, scaling: Float)
    /// Qwen3-MoE: softmax over all experts, top-k, optionally renormalised to sum to one.
    case softmax(normalize: Bool)
}

/// Picks experts for one token at a time. Scratch space is owned, so routing allocates nothing.
final class Router: @unchecked Sendable {
    // The scratch buffers are used only by the thread running the forward pass.
    let kind: RouterKind
    let experts: Int
    let topK: Int
    /// expert_bias, for `.sigmoidGrouped` (nil: zeros).
    let bias: UnsafePointer<Float>?
    private let scores: UnsafeMutablePointer<Float>
    private let choice: UnsafeMutablePointer<Float>
    private let groupScore: UnsafeMutablePointer<Float>
    private let keptGroups: UnsafeMutablePointer<Int32>

    init(kind: RouterKind, experts: Int, topK: Int, bias: UnsafePointer<Float>?) {
        self.kind = kind
        self.experts = experts
        self.topK = topK
        self.bias = bias
        scores = .allocate(capacity: experts)
        choice = .allocate(capacity: experts)
        groupScore = .allocate(capacity: max(1, experts))
        keptGroups = .allocate(capacity: max(1, experts))
    }

    /// Routes one token: writes `topK` expert ids and weights, best first.
    func route(logits: UnsafePointer<Float>, ids: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>) {
        let e = experts
        switch kind {
        case let .softmax(normalize):
            var m = -Float.infinity
            for i in 0 ..< e { m = max(m, logits[i]) }
            var sum: Float = 0
            for i in 0 ..< e {
                scores[i] = expf(logits[i] - m)
                sum += scores[i]
            }
            for i in 0 ..< e { scores[i] /= sum; choice[i] = scores[i] }
            Self.topK(choice, count: e, k: topK, into: ids)
            var total: Float = 0
            for j in 0 ..< topK { weights[j] = scores[Int(ids[j])]; total += weights[j] }
            if normalize { for j in 0 ..< topK { weights[j] /= total } }

        case let .sigmoidGrouped(groups, topkGroups, normalize, scaling):
            for i in 0 ..< e {
                scores[i] = 1 / (1 + expf(-logits[i]))
                choice[i] = scores[i] + (bias?[i] ?? 0)
            }
            if groups > 1 && topkGroups < groups {
                let per = e / groups
                for g in 0 ..< groups {
                    // Sum of the group's two best biased scores.
                    var a = -Float.infinity, b = -Float.infinity
                    for i in g * per ..< (g + 1) * per {
                        let s = choice[i]
                        if s > a { b = a; a = s } else if s > b { b = s }
                    }
                    groupScore[g] = per >= 2 ? a + b : a
                }
                // Keep the best `topkGroups` groups; the others' experts cannot be chosen.
                Self.topK(groupScore, count: groups, k: topkGroups, into: keptGroups)
                for g in 0 ..< groups {
                    var kept = false
                    for j in 0 ..< topkGroups where keptGroups[j] == Int32(g) { kept = true }
                    if !kept { for i in g * per ..< (g + 1) * per { choice[i] = -.infinity } }
                }
            }
            Self.topK(choice, count: e, k: topK, into: ids)
            var total: Float = 0
            for j in 0 ..< topK { weights[j] = scores[Int(ids[j])]; total += weights[j] }
            let norm: Float = normalize ? 1 / (total + 1e-20) : 1
            for j in 0 ..< topK { weights[j] *= norm * scaling }
        }
    }

    /// Indices of the `k` largest values, largest first, ties to the lower index.
    static func topK(_ v: UnsafePointer<Float>, count: Int, k: Int, into ids: UnsafeMutablePointer<Int32>) {
        for j in 0 ..< k { ids[j] = -1 }
        for i in 0 ..< count {
            let x = v[i]
            var j = k
            while j > 0 && (ids[j - 1] < 0 || x > v[Int(ids[j - 1])]) { j -= 1 }
            guard j < k else { continue }
            var m = k - 1
            while m > j { ids[m] = ids[m - 1]; m -= 1 }
            ids[j] = Int32(i)
        }
    }

    deinit {
        scores.deallocate()
        choice.deallocate()
        groupScore.deallocate()
        keptGroups.deallocate()
    }
}
