/// Decides, per decode step, whether to speculate, from the token rates the engine measured
/// itself: for each number of decoding requests it keeps the mean rate (tokens emitted per
/// second of step) of speculative and of plain steps, and takes the faster. Drafts cost a
/// wider forward pass and speculative steps give up the overlap scheduler, which at large
/// batches outweighs what accepted drafts save; where that point lies depends on the model,
/// the machine and how well the drafts match, so it is measured, not set.
///
/// A mode not yet measured at a batch size is tried first; afterwards the slower one is
/// tried again after `exploreEvery` steps, so a change in the workload is noticed. Each retry
/// that confirms the choice doubles the wait (up to 16x), since a retry of the slower mode costs
/// a slow step: where speculation loses, the probing alone would otherwise cost a few percent.
struct SpeculationGate: Sendable {
    // Host thread only.
    /// Per mode (plain, speculative) and batch size: running means of the tokens a step
    /// emitted and of its seconds. Their ratio is the rate: a mean of per-step rates would
    /// overweight the lucky steps of a mode whose steps emit 1 to 8 tokens.
    private var tokens: [[Double]]
    private var seconds: [[Double]]
    /// Per batch size: steps since the slower mode was last tried, the wait before the next
    /// try, and the choice that try is meant to check.
    private var sinceExplore: [Int]
    private var wait: [Int]
    private var lastChoice: [Bool?]
    let exploreEvery: Int
    /// Weight of a new sample in the running means, and of a probe's.
    let alpha = 0.15
    let probeAlpha = 0.5

    init(maxBatch: Int, exploreEvery: Int = 24) {
        tokens = Array(repeating: Array(repeating: 0, count: maxBatch + 1), count: 2)
        seconds = tokens
        sinceExplore = Array(repeating: 0, count: maxBatch + 1)
        wait = Array(repeating: exploreEvery, count: maxBatch + 1)
        lastChoice = Array(repeating: nil, count: maxBatch + 1)
        self.exploreEvery = exploreEvery
    }

    private func bucket(_ n: Int) -> Int { max(1, min(n, wait.count - 1)) }

    private func rate(_ m: Int, _ i: Int) -> Double { seconds[m][i] > 0 ? tokens[m][i] / seconds[m][i] : 0 }

    /// Measured rates (plain, speculative) at `decoders` requests; 0 where not measured.
    func rate(decoders: Int) -> (plain: Double, speculative: Double) {
        let i = bucket(decoders)
        return (rate(0, i), rate(1, i))
    }

    mutating func shouldSpeculate(decoders: Int) -> Bool {
        let i = bucket(decoders)
        let plain = rate(0, i), spec = rate(1, i)
        if spec == 0 { return true }
        if plain == 0 { return false }
        let better = spec >= plain
        sinceExplore[i] += 1
        guard sinceExplore[i] >= wait[i] else { return better }
        sinceExplore[i] = 0
        lastChoice[i] = better
        return !better
    }

    mutating func record(speculative: Bool, decoders: Int, tokens n: Int, seconds s: Double) {
        guard s > 0, n > 0 else { return }
        let i = bucket(decoders), m = speculative ? 1 : 0
        // A probe's step weighs more: the probed mode's means are old.
        let probe = lastChoice[i].map { $0 != speculative } ?? false
        let a = probe ? probeAlpha : alpha
        if seconds[m][i] == 0 {
            tokens[m][i] = Double(n)
            seconds[m][i] = s
        } else {
            tokens[m][i] += a * (Double(n) - tokens[m][i])
            seconds[m][i] += a * (s - seconds[m][i])
        }
        if probe, let last = lastChoice[i] {
            // The probe's result: the same choice doubles the wait, a new one resets it.
            wait[i] = last == (rate(1, i) >= rate(0, i)) ? min(wait[i] * 2, 16 * exploreEvery) : exploreEvery
            lastChoice[i] = nil
        }
    }
}
