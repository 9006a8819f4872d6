/// Decides, per decode step, whether to speculate, from the token rates the engine measured
/// itself: for each number of decoding requests it keeps the mean rate (tokens emitted per
/// second of step) of speculative and of plain steps, and takes the faster. Drafts cost a
/// wider forward pass and speculative steps give up the overlap scheduler, which at large
/// batches outweighs what accepted drafts save; where that point lies depends on the model,
/// the machine and how well the drafts match, so it is measured, not set.
///
/// A mode not yet measured at a batch size is tried first; afterwards the slower one is
/// tried again every `exploreEvery` steps, so a change in the workload is noticed.
struct SpeculationGate: Sendable {
    // Host thread only.
    private var rates: [[Double]]
    private var decisions: [Int]
    let exploreEvery: Int
    /// Weight of a new sample in the running mean.
    let alpha = 0.15

    init(maxBatch: Int, exploreEvery: Int = 24) {
        rates = Array(repeating: Array(repeating: 0, count: maxBatch + 1), count: 2)
        decisions = Array(repeating: 0, count: maxBatch + 1)
        self.exploreEvery = exploreEvery
    }

    private func bucket(_ n: Int) -> Int { max(1, min(n, decisions.count - 1)) }

    /// Measured rates (plain, speculative) at `decoders` requests; 0 where not measured.
    func rate(decoders: Int) -> (plain: Double, speculative: Double) {
        let i = bucket(decoders)
        return (rates[0][i], rates[1][i])
    }

    mutating func shouldSpeculate(decoders: Int) -> Bool {
        let i = bucket(decoders)
        decisions[i] += 1
        let plain = rates[0][i], spec = rates[1][i]
        if spec == 0 { return true }
        if plain == 0 { return false }
        let better = spec >= plain
        return decisions[i] % exploreEvery == 0 ? !better : better
    }

    mutating func record(speculative: Bool, decoders: Int, tokens: Int, seconds: Double) {
        guard seconds > 0, tokens > 0 else { return }
        let i = bucket(decoders), m = speculative ? 1 : 0
        let r = Double(tokens) / seconds
        rates[m][i] = rates[m][i] == 0 ? r : rates[m][i] + alpha * (r - rates[m][i])
    }
}
