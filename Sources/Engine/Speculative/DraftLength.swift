/// How many drafts a request offers, from what a verification costs on this machine and how
/// many tokens its drafts are expected to emit. A step of w tokens costs `StepCosts.seconds(w)`,
/// measured per width (on CPU it grows with w, in steps where the matrix kernels' token tiles
/// end); what k drafts are expected to emit comes from the caller (`AcceptanceTable`, from the
/// verifications so far). The step's drafts are chosen so that the tokens it emits per second
/// are highest.
struct StepCosts: Sendable {
    // Host thread only.
    /// Running mean of a decode step's device seconds, by its token count (index 0 unused).
    private var seconds: [Double]
    let alpha = 0.2

    init(maxWidth: Int) { seconds = Array(repeating: 0, count: max(2, maxWidth + 1)) }

    mutating func record(width: Int, seconds s: Double) {
        guard width >= 1, width < seconds.count, s > 0 else { return }
        seconds[width] = seconds[width] == 0 ? s : seconds[width] + alpha * (s - seconds[width])
    }

    /// The cost of a step of `width` tokens in units of the narrowest measured step: measured,
    /// else interpolated between the nearest measured widths, else extrapolated at a quarter of
    /// a one-token step per token (about what the integer kernels cost per extra token).
    func cost(_ width: Int) -> Double {
        let w = max(1, min(width, seconds.count - 1))
        var lo = w, hi = w
        while lo >= 1 && seconds[lo] == 0 { lo -= 1 }
        while hi < seconds.count && seconds[hi] == 0 { hi += 1 }
        let prior = { (x: Int) in 1 + 0.25 * Double(x - 1) }
        switch (lo >= 1, hi < seconds.count) {
        case (true, true) where lo == hi: return seconds[w]
        case (true, true):
            let f = Double(w - lo) / Double(hi - lo)
            return seconds[lo] + f * (seconds[hi] - seconds[lo])
        case (true, false): return seconds[lo] * prior(w) / prior(lo)
        case (false, true): return seconds[hi] * prior(w) / prior(hi)
        case (false, false): return prior(w)
        }
    }

    /// Expected tokens from `k` drafts each accepted at rate `a` given the ones before it (plus
    /// the target's own token): the geometric model, for drafts without a record by depth.
    static func expectedTokens(drafts k: Int, rate a: Double) -> Double {
        var e = 1.0, p = 1.0
        for _ in 0 ..< k {
            p *= a
            e += p
        }
        return e
    }

    /// The drafts (0 ... `available`) one request adds to a step that, without them, has
    /// `width` tokens expected to emit `tokens`: the count giving the most tokens per second,
    /// where `expected(k)` is what k drafts and the target's own token are expected to emit.
    func bestDrafts(available: Int, width: Int, tokens: Double, expected: (Int) -> Double) -> Int {
        var best = 0, bestRate = tokens / cost(width)
        for k in stride(from: 1, through: available, by: 1) {
            let r = (tokens - 1 + expected(k)) / cost(width + k)
            if r > bestRate {
                best = k
                bestRate = r
            }
        }
        return best
    }

    /// `bestDrafts` under the geometric model at rate `a`.
    func bestDrafts(available: Int, rate a: Double, width: Int, tokens: Double) -> Int {
        bestDrafts(available: available, width: width, tokens: tokens) { Self.expectedTokens(drafts: $0, rate: a) }
    }
}
