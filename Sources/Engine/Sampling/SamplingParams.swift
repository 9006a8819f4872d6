/// How to pick each next token, and when to stop (OpenAI / SGLang field meanings).
public struct SamplingParams: Sendable, Equatable, Codable {
    /// 0 means greedy (argmax, ties to the lowest id).
    public var temperature: Float = 0
    /// 0 disables top-k.
    public var topK: Int = 0
    public var topP: Float = 1
    public var minP: Float = 0
    /// OpenAI's: subtract `frequencyPenalty * count + presencePenalty` from generated tokens' logits.
    public var frequencyPenalty: Float = 0
    public var presencePenalty: Float = 0
    /// HF's / CTRL's: divide positive logits (multiply negative ones) of every token seen so
    /// far, prompt included. 1 is off.
    public var repetitionPenalty: Float = 1
    /// Same seed, same output, whatever else runs alongside.
    public var seed: UInt64? = nil
    public var maxTokens: Int = 128
    /// Keep going past end-of-sequence tokens.
    public var ignoreEOS: Bool = false
    public var stopTokenIDs: [Int32] = []

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                frequencyPenalty: Float = 0, presencePenalty: Float = 0, repetitionPenalty: Float = 1, seed: UInt64? = nil,
                maxTokens: Int = 128, ignoreEOS: Bool = false, stopTokenIDs: [Int32] = []) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
        self.maxTokens = maxTokens
        self.ignoreEOS = ignoreEOS
        self.stopTokenIDs = stopTokenIDs
    }

    public var isGreedy: Bool { temperature <= 0 || topK == 1 }
}
