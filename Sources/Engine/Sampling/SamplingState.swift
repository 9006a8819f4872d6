/// A request's sampling state that lives on the device thread: its random generator and the
/// counts its penalties need. The host creates it and then never touches it again, so the
/// device thread updates it without any lock.
final class SamplingState: @unchecked Sendable {
    let params: SamplingParams
    let topLogprobs: Int?
    var rng: SeededGenerator
    /// Generated tokens so far and how often each occurred (frequency / presence penalties).
    private var counts: [Int32: Int] = [:]
    /// Tokens of the prompt and the output (the repetition penalty looks at both, as HF does).
    private var seen: Set<Int32>
    let vocabSize: Int

    init(params: SamplingParams, topLogprobs: Int?, prompt: [Int32], vocabSize: Int) {
        self.params = params
        self.topLogprobs = topLogprobs
        self.vocabSize = vocabSize
        rng = SeededGenerator(seed: params.seed ?? UInt64.random(in: 0 ... .max))
        seen = params.repetitionPenalty != 1 ? Set(prompt) : []
    }

    var hasPenalties: Bool {
        params.frequencyPenalty != 0 || params.presencePenalty != 0 || params.repetitionPenalty != 1
    }

    /// Applies the penalties to a row of logits in place.
    func applyPenalties(_ logits: UnsafeMutableBufferPointer<Float>) {
        let p = params
        if p.repetitionPenalty != 1 {
            for t in seen {
                let l = logits[Int(t)]
                logits[Int(t)] = l > 0 ? l / p.repetitionPenalty : l * p.repetitionPenalty
            }
        }
        if p.frequencyPenalty != 0 || p.presencePenalty != 0 {
            for (t, c) in counts {
                logits[Int(t)] -= p.frequencyPenalty * Float(c) + p.presencePenalty
            }
        }
    }

    /// Records a generated token for the penalties.
    func accept(_ token: Int32) {
        guard hasPenalties else { return }
        counts[token, default: 0] += 1
        if params.repetitionPenalty != 1 { seen.insert(token) }
    }
}
