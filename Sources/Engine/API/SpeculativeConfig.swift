/// Speculative decoding, under SGLang's server argument names.
///
/// Drafts are verified by the target in one forward pass: each draft token is an extra query
/// position of its sequence (a chain, so causal attention over consecutive positions is the
/// verification mask). The emitted tokens are those the target samples itself, position by
/// position, for as long as they equal the drafts, plus one more: greedy output is identical
/// to plain decoding, and so is sampled output under the same seed, since each emitted token
/// takes one draw from the request's generator exactly as it would without drafts.
public struct SpeculativeConfig: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        /// Prompt lookup: the tokens that followed the latest earlier occurrence of the
        /// sequence's longest matching suffix (prompt and output so far).
        case ngram
        /// The model's own MTP (nextn) layer drafts a chain of `numSteps` tokens on the device
        /// (SGLang's NEXTN: EAGLE with the checkpoint's MTP layer, top-k 1).
        case nextn
    }

    public var algorithm = Algorithm.ngram
    /// Query tokens of one verification, the last verified token included (SGLang's
    /// `speculative_num_draft_tokens`): at most this minus one drafts per request and step.
    public var numDraftTokens = 8
    /// Shortest and longest suffix the n-gram lookup matches.
    public var ngramMinMatchWindow = 1
    public var ngramMaxMatchWindow = 12
    /// Most children a node of an n-gram draft tree keeps (SGLang's
    /// `speculative_ngram_max_bfs_breadth`): 1 drafts chains; more merges the continuations of
    /// several earlier matches into a tree, verified in one pass under a tree attention mask.
    public var ngramMaxBreadth = 1
    /// Draft steps of the MTP layer per verification (SGLang's `speculative_num_steps`).
    public var numSteps = 3
    /// Speculate only at batch sizes where speculative steps measured a higher token rate than
    /// plain ones (false: every decode step speculates; tests and `--speculative-every-step` use it).
    public var measuredGate = true
    /// Offer only the drafts that measured step costs say pay (`StepCosts`); false offers every
    /// draft found (tests and `--speculative-every-step` use it, so that each step verifies drafts).
    public var draftsByCost = true
    /// Without the measured gate: speculate on one host step in this many (tests: the MTP
    /// layer catching up over the positions plain steps left).
    var speculateEvery = 1

    public init(algorithm: Algorithm = .ngram, numDraftTokens: Int = 8, ngramMinMatchWindow: Int = 1, ngramMaxMatchWindow: Int = 12,
                ngramMaxBreadth: Int = 1, numSteps: Int = 3) {
        self.algorithm = algorithm
        self.numSteps = numSteps
        self.numDraftTokens = numDraftTokens
        self.ngramMinMatchWindow = ngramMinMatchWindow
        self.ngramMaxMatchWindow = ngramMaxMatchWindow
        self.ngramMaxBreadth = ngramMaxBreadth
    }

    /// Drafts per request and step.
    public var maxDrafts: Int { max(0, algorithm == .nextn ? min(numSteps, numDraftTokens - 1) : numDraftTokens - 1) }
}
