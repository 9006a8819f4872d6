import Engine

/// One request of a workload: its prompt as token ids and how many tokens to generate.
/// Multi-turn requests name their conversation and turn; their prompt grows with the answers.
public struct BenchRequest: Sendable {
    public var prompt: [Int32]
    public var outputLen: Int
    public var conversation = -1
    public var turn = 0

    public init(prompt: [Int32], outputLen: Int, conversation: Int = -1, turn: Int = 0) {
        self.prompt = prompt
        self.outputLen = outputLen
        self.conversation = conversation
        self.turn = turn
    }
}

/// The shapes of load SGLang's `bench_serving` generates, as token ids (so that the same
/// workload can go to any server without a tokenizer).
public enum Workload: String, CaseIterable, Sendable {
    case random
    case sharedPrefix = "shared-prefix"
    case multiTurn = "multi-turn"
    /// Chat prompts asking to rewrite a given passage (input-grounded output).
    case rewrite
    /// Chat prompts with open-ended questions.
    case openEnded = "open-ended"
    /// Chat prompts with short reasoning questions (sums, differences, comparisons, sorting,
    /// letter counts: tiny-ring's tasks).
    case tasks

    /// Text workloads need the model's tokenizer and chat template (`WorkloadSpec.chat`).
    public var isText: Bool { self == .rewrite || self == .openEnded || self == .tasks }

    /// Whether `bench` generates past end-of-sequence unless told otherwise: yes for the
    /// token-id workloads (bench_serving's fixed output lengths, over random ids that have no
    /// natural end), no for the chat workloads, whose answers end where the model ends them.
    public var ignoresEOSByDefault: Bool { !isText }
}

public struct WorkloadSpec: Sendable {
    public var kind = Workload.random
    public var numPrompts = 64
    public var inputLen = 128
    public var outputLen = 128
    /// Lengths are uniform in [len * ratio, len]; 1 makes them fixed.
    public var rangeRatio = 1.0
    public var groups = 8
    public var promptsPerGroup = 8
    public var systemPromptLen = 512
    public var questionLen = 64
    public var conversations = 8
    public var turns = 4
    public var seed: UInt64 = 1
    /// Token ids are drawn from [low, vocab) to stay clear of control tokens.
    public var vocabSize = 32000
    /// Text workloads: renders a user message through the model's chat template into ids.
    public var chat: (@Sendable (String) -> [Int32])?

    /// The requests in arrival order. Multi-turn requests after the first turn get their
    /// prompt prefix (the conversation so far) when the previous turn finishes.
    public init() {}

    public func requests() -> [BenchRequest] {
        var rng = SeededGenerator(seed: seed)
        func tokens(_ n: Int) -> [Int32] {
            let low: UInt64 = 100, span = UInt64(max(vocabSize - 100, 1))
            return (0 ..< n).map { _ in Int32(low + rng.next() % span) }
        }
        func length(_ l: Int) -> Int {
            let lo = max(1, Int(Double(l) * rangeRatio))
            return lo >= l ? l : lo + Int(rng.next() % UInt64(l - lo + 1))
        }
        switch kind {
        case .random:
            return (0 ..< numPrompts).map { _ in BenchRequest(prompt: tokens(length(inputLen)), outputLen: length(outputLen)) }
        case .sharedPrefix:
            let systems = (0 ..< groups).map { _ in tokens(systemPromptLen) }
            var out: [BenchRequest] = []
            for g in 0 ..< groups {
                for _ in 0 ..< promptsPerGroup {
                    out.append(BenchRequest(prompt: systems[g] + tokens(questionLen), outputLen: outputLen))
                }
            }
            // Interleave the groups, as the generated-shared-prefix dataset is shuffled.
            var order = Array(out.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            return order.map { out[$0] }
        case .multiTurn:
            var out: [BenchRequest] = []
            for t in 0 ..< turns {
                for c in 0 ..< conversations {
                    out.append(BenchRequest(prompt: tokens(questionLen), outputLen: outputLen, conversation: c, turn: t))
                }
            }
            return out
        case .rewrite, .openEnded, .tasks:
            guard let chat else { preconditionFailure("text workloads need WorkloadSpec.chat") }
            return (0 ..< numPrompts).map { BenchRequest(prompt: chat(TextPrompts.prompt(kind, $0)), outputLen: outputLen) }
        }
    }
}

extension WorkloadSpec {
    /// `count` short random requests, none of them among the measured ones, to run first: they
    /// page in the weights and start the threads.
    public func warmUp(count: Int) -> WorkloadSpec {
        var w = self
        w.kind = .random
        w.numPrompts = count
        w.seed = seed &+ 1_000_003
        w.outputLen = min(outputLen, 16)
        return w
    }

    /// The report's `workload` line, e.g. "random 64 x 128 in / 128 out, concurrency 16";
    /// `load` says how requests are sent.
    public func describe(load: String) -> String {
        switch kind {
        case .random: "random \(numPrompts) x \(inputLen) in / \(outputLen) out, \(load)"
        case .sharedPrefix: "shared-prefix \(groups) groups x \(promptsPerGroup), system \(systemPromptLen) + question \(questionLen), \(outputLen) out, \(load)"
        case .multiTurn: "multi-turn \(conversations) conversations x \(turns) turns, question \(questionLen), \(outputLen) out, \(load)"
        case .rewrite, .openEnded, .tasks: "\(kind.rawValue) \(numPrompts) chat prompts, \(outputLen) out, \(load)"
        }
    }
}
