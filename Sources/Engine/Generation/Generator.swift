import Foundation

/// The outcome of one completion.
public struct GenerationResult: Sendable {
    public var promptIDs: [Int32]
    public var outputIDs: [Int32]
    public var text: String
    public var finishReason: FinishReason
    /// The 5 best (id, logit) pairs at the first generated position.
    public var firstTop5: [(Int32, Float)]
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    public var prefillTokensPerSecond: Double { Double(promptIDs.count) / max(prefillSeconds, 1e-9) }
    /// Tokens after the first, over the time after the first (the first comes from prefill).
    public var decodeTokensPerSecond: Double { Double(max(outputIDs.count - 1, 0)) / max(decodeSeconds, 1e-9) }
}

/// Runs single completions on one model: prompt in, tokens streamed out. The single-stream
/// path; the engine core's scheduler serves many at once.
public final class Generator: @unchecked Sendable {
    // One generation at a time, on the caller's thread.
    public let loaded: LoadedModel
    let runner: SequenceRunner
    private var sampler = Sampler()

    public init(_ loaded: LoadedModel, kvTokens: Int? = nil) {
        self.loaded = loaded
        runner = SequenceRunner(model: loaded.model, kvTokens: kvTokens ?? min(loaded.model.info.contextLength, 8192))
    }

    /// Generates from `prompt`. `onText` receives each piece of complete UTF-8 text as it is
    /// decoded; returning false stops generation early.
    public func generate(prompt: [Int32], params: SamplingParams,
                         onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        runner.reset()
        defer { runner.reset() }
        var rng = SeededGenerator(seed: params.seed ?? UInt64.random(in: 0 ... .max))
        var detok = IncrementalDetokenizer(tokenizer: loaded.tokenizer, skipSpecial: true)
        let t0 = DispatchTime.now().uptimeNanoseconds
        var logits = try runner.extend(prompt)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let top5 = Sampler.topK(logits.row(0), 5)
        var out: [Int32] = []
        var text = ""
        var reason = FinishReason.length
        while out.count < params.maxTokens {
            let next = sampler.sample(logits.row(0), params: params, rng: &rng)
            if !params.ignoreEOS && (loaded.stopTokens.contains(next) || params.stopTokenIDs.contains(next)) {
                reason = .stop
                break
            }
            out.append(next)
            let piece = detok.append(next)
            text += piece
            if !piece.isEmpty && !onText(piece) {
                reason = .stop
                break
            }
            if out.count == params.maxTokens || runner.length >= runner.capacity { break }
            logits = try runner.extend([next])
        }
        let tail = detok.flush()
        if !tail.isEmpty {
            text += tail
            _ = onText(tail)
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return GenerationResult(
            promptIDs: prompt, outputIDs: out, text: text, finishReason: reason, firstTop5: top5,
            prefillSeconds: Double(t1 - t0) / 1e9, decodeSeconds: Double(t2 - t1) / 1e9)
    }
}
