/// How far drafts get accepted, learned from verifications, per class of draft (n-gram drafts:
/// by the length of the match that proposed them, `matchClass`).
///
/// Acceptance comes in bursts: a request copying a passage accepts whole drafts, one that
/// paraphrases it rejects the first. One rate per draft (each accepted independently) averages
/// the two and offers about 3 drafts where 7 would all have been accepted. So the table keeps,
/// per class and draft depth j, how many verifications reached draft j (offered it and accepted
/// drafts 1 ..< j) and how many of those accepted it: the conditional acceptance h(j), which
/// (as Kaplan-Meier's hazard) stays unbiased although the number of drafts offered varies.
/// The chance that the first j drafts are all accepted is S(j) = h(1) ... h(j), and k drafts
/// are expected to emit 1 + S(1) + ... + S(k) tokens.
///
/// Host thread only.
struct AcceptanceTable: Sendable {
    let classes: Int
    let depth: Int
    /// Per class, per depth 1 ... `depth` (index class * depth + j - 1): decayed counts.
    private var reached: [Double]
    private var accepted: [Double]
    /// h(1) before any verification: 3 in 4, so that drafts are tried.
    let prior = 0.75
    /// Weight, in verifications, of the prior on h(1) and of h(j - 1) on h(j): a depth with
    /// few verifications borrows from the one before it.
    let priorWeight = 2.0
    /// A class's counts shrink by this at each of its verifications (recent behaviour counts),
    /// and by `fadeFactor` whenever drafts of it are held back, so a class that measured badly
    /// drifts back to the prior and is tried again.
    let decay = 0.98
    let fadeFactor = 0.99

    init(classes: Int = Self.matchClasses, depth: Int) {
        self.classes = max(1, classes)
        self.depth = max(1, depth)
        reached = Array(repeating: 0, count: self.classes * self.depth)
        accepted = reached
    }

    /// n-gram match lengths 1, 2, 3, 4-5, 6-8, 9 and longer.
    static let matchClasses = 6

    static func matchClass(_ matchLength: Int) -> Int {
        switch matchLength {
        case ...1: 0
        case 2: 1
        case 3: 2
        case 4 ... 5: 3
        case 6 ... 8: 4
        default: 5
        }
    }

    private func index(_ c: Int, _ j: Int) -> Int { max(0, min(c, classes - 1)) * depth + j - 1 }

    /// Records a verification of drafts `class c`, `offered` deep, that accepted `acceptedDrafts`.
    mutating func record(class c: Int, offered: Int, accepted m: Int) {
        let k = min(offered, depth)
        guard k >= 1 else { return }
        let base = index(c, 1)
        for j in 0 ..< depth {
            reached[base + j] *= decay
            accepted[base + j] *= decay
        }
        for j in 1 ... min(m + 1, k) { reached[base + j - 1] += 1 }
        if m >= 1 { for j in 1 ... min(m, k) { accepted[base + j - 1] += 1 } }
    }

    /// Drafts of class `c` were held back: its record moves toward the prior.
    mutating func fade(class c: Int) {
        let base = index(c, 1)
        for j in 0 ..< depth {
            reached[base + j] *= fadeFactor
            accepted[base + j] *= fadeFactor
        }
    }

    /// h(j): the chance that draft j is accepted when drafts 1 ..< j were.
    func hazard(class c: Int, depth j: Int) -> Double {
        var h = prior
        for i in 1 ... max(1, min(j, depth)) {
            let x = index(c, i)
            h = (accepted[x] + priorWeight * h) / (reached[x] + priorWeight)
        }
        return h
    }

    /// Expected tokens from `k` drafts of class `c` (the target's own token included).
    func expectedTokens(drafts k: Int, class c: Int) -> Double {
        var e = 1.0, s = 1.0, h = prior
        for j in stride(from: 1, through: k, by: 1) {
            if j <= depth {
                let x = index(c, j)
                h = (accepted[x] + priorWeight * h) / (reached[x] + priorWeight)
            }
            s *= h
            e += s
        }
        return e
    }
}
