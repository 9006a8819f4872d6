import Profiler

/// A request inside the engine, owned by the host (scheduler) thread.
final class Req: @unchecked Sendable {
    // Mutated only by the host thread; the device thread sees `sampling` and batch copies.
    let id: UInt64
    let prompt: [Int32]
    /// Tokens generated and seen by the host.
    var output: [Int32] = []
    let params: SamplingParams
    let stop: [String]
    let topLogprobs: Int?
    let continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation
    let sampling: SamplingState
    let submitted: UInt64
    var firstToken: UInt64?
    var admitted: UInt64?

    /// Row of the request-to-token table while admitted; also its slot in the future map.
    var row = -1
    /// Pages backing positions 0..<kvComputed: first the cached prefix's (owned by the tree),
    /// then its own.
    var pages: [Int32] = []
    /// How many of `pages` (from the front) belong to the radix tree; the rest are private.
    var treePages = 0
    /// The tree node this request holds locked (its cached or inserted prefix).
    var lockedPrefix: RadixCache.Match?
    /// Positions whose KV is computed or scheduled to be.
    var kvComputed = 0
    /// Tokens sampled on the device that the host has not seen yet (overlap mode).
    var pending = 0
    /// Prompt tokens that came from the cache at the first admission.
    var cachedPromptTokens: Int?
    var retracted = 0
    /// Speculative decoding: the class (`AcceptanceTable`) and depth (a chain's length, a
    /// tree's deepest path) of the drafts in flight.
    var draftClass = 0
    var draftDepth = 0
    /// nextn: positions 0..<mtpComputed hold the MTP layer's KV (each given the token after
    /// it), computed or scheduled; the layer catches up from here before the next drafts.
    var mtpComputed = 0

    var finishReason: FinishReason?
    var cancelled = false
    /// Streaming: the detokenizer, and text held back while it could still become a stop string.
    var detokenizer: IncrementalDetokenizer
    var heldText = ""
    var heldTokens: [Int32] = []
    var heldLogprobs: [TokenLogprob] = []
    /// Splits a thinking model's output into reasoning and answer (chat requests only).
    var reasoning: ReasoningParser?

    init(id: UInt64, prompt: [Int32], request: GenerateRequest, tokenizer: any Tokenizer, vocabSize: Int,
         continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation) {
        self.id = id
        self.prompt = prompt
        params = request.params
        stop = request.stop
        topLogprobs = request.topLogprobs
        self.continuation = continuation
        sampling = SamplingState(params: request.params, topLogprobs: request.topLogprobs, prompt: prompt, vocabSize: vocabSize)
        submitted = Recorder.now()
        detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipSpecial: true)
    }

    /// Tokens the sequence holds, pending ones included.
    var length: Int { prompt.count + output.count + pending }

    /// The token at position `p`: real, or for the newest pending one, a future placeholder.
    func token(at p: Int) -> Int32 {
        p < prompt.count ? prompt[p] : p - prompt.count < output.count ? output[p - prompt.count] : Self.placeholder(row: row)
    }

    /// Negative ids index the device's future map: -(row + 1).
    static func placeholder(row: Int) -> Int32 { Int32(-(row + 1)) }

    /// Set when the last prefill chunk is scheduled; from then on each step feeds the newest
    /// token. A retraction starts the prefill (of prompt and output) over.
    var prefilled = false

    /// True while the prompt (or, after a retraction, prompt and output) is being prefilled.
    var inPrefill: Bool { !prefilled }

    var isDone: Bool { finishReason != nil || cancelled }

    /// More tokens may still be asked of the device.
    var wantsMore: Bool { !isDone && output.count + pending < params.maxTokens }
}
