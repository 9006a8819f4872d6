import ArgumentParser
import Engine

/// How the engine schedules and computes: flags every command that runs the engine takes
/// (SGLang's server arguments, under the same names).
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("kv-cache-tokens"), help: "Tokens the KV cache holds (default: a quarter of free memory).")
    var kvCacheTokens: Int?
    @Option(name: .customLong("page-size"), help: "Tokens per KV page; the radix cache shares whole pages.")
    var pageSize = EngineConfig().pageSize
    @Option(name: .customLong("max-running-requests"), help: "Most requests decoding at once.")
    var maxRunningRequests = EngineConfig().maxRunningRequests
    @Option(name: .customLong("max-prefill-tokens"), help: "Most prompt tokens one prefill batch adds.")
    var maxPrefillTokens = EngineConfig().maxPrefillTokens
    @Option(name: .customLong("chunked-prefill-size"), help: "Longer prompts are prefilled in chunks of this many tokens.")
    var chunkedPrefillSize = EngineConfig().chunkedPrefillSize
    @Option(name: .customLong("schedule-policy"), help: "fcfs, or lpm (longest cached prefix first).")
    var schedulePolicy = EngineConfig.SchedulePolicy.fcfs
    @Flag(name: .customLong("no-radix-cache"), help: "Share nothing between requests.")
    var noRadixCache = false
    @Flag(name: .customLong("no-overlap"), help: "Run the plain scheduler loop (host and device take turns).")
    var noOverlap = false
    @Option(name: .customLong("moe-backend"), help: "grouped (one product per expert over its tokens) or dense (every expert, masked).")
    var moeBackend = MoEBackend.grouped
    @Flag(name: .customLong("fp32-activations"), help: "Decode with fp32 activations (matches an fp32 reference to 1e-3) instead of int16-quantized ones.")
    var fp32Activations = false
    @Option(name: .customLong("kv-cache-dtype"),
            help: "How the KV cache stores values: auto (halves, or fp32 with --fp32-activations), float16 or float32. Halves read half the bytes per decode step.")
    var kvCacheDType = KVCacheDType.auto
    @Flag(name: .customLong("bf16-prompts"), inversion: .prefixedNo,
          help: "Multiply prompt tokens in bf16 on CPUs with AVX-512 BF16 (Zen 4, Sapphire Rapids; on by default): pp512 about 1.6x faster on Zen 4, logits within about 0.1 of fp32; a prompt token is computed the same way in any batch. --no-bf16-prompts (or --fp32-activations) keeps prompts in fp32.")
    var bf16Prompts = true
    @Option(name: .customLong("speculative-algorithm"),
            help: "Speculative decoding: ngram (drafts from the request's own tokens) or nextn (the model's own MTP layer drafts, e.g. Ling/Ring 2.0); verified in one pass, lossless. Speculative steps run without overlap, and only at batch sizes where they measured faster than plain steps.")
    var speculativeAlgorithm: String?
    @Option(name: .customLong("speculative-num-steps"), help: "nextn: draft steps of the MTP layer per verification.")
    var speculativeNumSteps = SpeculativeConfig().numSteps
    @Option(name: .customLong("speculative-eagle-topk"), help: "nextn: tokens kept per draft step (1: a chain).")
    var speculativeEagleTopk = 1
    @Option(name: .customLong("speculative-num-draft-tokens"), help: "Tokens per verification, the last verified one included (drafts per step + 1).")
    var speculativeNumDraftTokens = SpeculativeConfig().numDraftTokens
    @Option(name: .customLong("speculative-ngram-min-match-window-size"), help: "Shortest suffix the n-gram drafter matches.")
    var ngramMinWindow = SpeculativeConfig().ngramMinMatchWindow
    @Option(name: .customLong("speculative-ngram-max-match-window-size"), help: "Longest suffix the n-gram drafter matches.")
    var ngramMaxWindow = SpeculativeConfig().ngramMaxMatchWindow
    @Option(name: .customLong("speculative-ngram-max-bfs-breadth"),
            help: "Most children a node of an n-gram draft tree keeps: 1 drafts chains, more merges several earlier matches into a tree verified in one pass.")
    var ngramMaxBreadth = SpeculativeConfig().ngramMaxBreadth
    @Flag(name: .customLong("speculative-every-step"),
          help: "Speculate on every decode step with every draft found (no measured gate): shows what speculation costs where it does not pay.")
    var speculativeEveryStep = false

    func validate() throws {
        if let a = speculativeAlgorithm {
            guard let algorithm = SpeculativeConfig.Algorithm(rawValue: a.lowercased()) else {
                throw ValidationError(a.lowercased() == "eagle"
                    ? "--speculative-algorithm eagle: separate EAGLE draft models are not supported; nextn drafts with the model's own MTP layer"
                    : "--speculative-algorithm must be ngram or nextn (got '\(a)')")
            }
            if algorithm == .nextn {
                guard speculativeEagleTopk == 1 else {
                    throw ValidationError("--speculative-eagle-topk \(speculativeEagleTopk): MTP draft trees are not implemented; nextn drafts chains (top-k 1)")
                }
                guard speculativeNumSteps >= 1, speculativeNumSteps <= 63 else { throw ValidationError("--speculative-num-steps must be in 1...63") }
            }
        }
        guard speculativeNumDraftTokens >= 2, speculativeNumDraftTokens <= 64 else {
            throw ValidationError("--speculative-num-draft-tokens must be in 2...64")
        }
        guard ngramMinWindow >= 1, ngramMaxWindow >= ngramMinWindow else {
            throw ValidationError("--speculative-ngram-min-match-window-size must be >= 1 and <= --speculative-ngram-max-match-window-size")
        }
        guard ngramMaxBreadth >= 1, ngramMaxBreadth <= 64 else {
            throw ValidationError("--speculative-ngram-max-bfs-breadth must be in 1...64")
        }
        if let t = kvCacheTokens, t < pageSize { throw ValidationError("--kv-cache-tokens must hold at least one page (\(pageSize) tokens)") }
        guard pageSize >= 1, pageSize <= 1024 else { throw ValidationError("--page-size must be in 1...1024") }
        guard maxRunningRequests >= 1 else { throw ValidationError("--max-running-requests must be >= 1") }
        guard maxPrefillTokens >= 1 else { throw ValidationError("--max-prefill-tokens must be >= 1") }
        guard chunkedPrefillSize >= 1 else { throw ValidationError("--chunked-prefill-size must be >= 1") }
    }

    /// The config, refused with the reason when the model cannot run it (nextn without an MTP layer).
    func engineConfig(for loaded: LoadedModel) throws -> EngineConfig {
        let c = engineConfig
        if let problem = Engine.problem(c, loaded) { throw CLIError(problem.description) }
        return c
    }

    var engineConfig: EngineConfig {
        var c = EngineConfig()
        c.kvCacheTokens = kvCacheTokens
        c.pageSize = pageSize
        c.maxRunningRequests = maxRunningRequests
        c.maxPrefillTokens = maxPrefillTokens
        c.chunkedPrefillSize = chunkedPrefillSize
        c.schedulePolicy = schedulePolicy
        c.radixCache = !noRadixCache
        c.overlap = !noOverlap
        c.moeBackend = moeBackend
        c.fp32Activations = fp32Activations
        c.bf16Prompts = bf16Prompts
        c.kvCacheDType = kvCacheDType
        if let a = speculativeAlgorithm, let algorithm = SpeculativeConfig.Algorithm(rawValue: a.lowercased()) {
            // A chain of n steps verifies n + 1 tokens (SGLang's rule for top-k 1).
            c.speculative = SpeculativeConfig(algorithm: algorithm,
                                              numDraftTokens: algorithm == .nextn ? speculativeNumSteps + 1 : speculativeNumDraftTokens,
                                              ngramMinMatchWindow: ngramMinWindow, ngramMaxMatchWindow: ngramMaxWindow,
                                              ngramMaxBreadth: ngramMaxBreadth, numSteps: speculativeNumSteps)
            if speculativeEveryStep {
                c.speculative!.measuredGate = false
                c.speculative!.draftsByCost = false
            }
        }
        return c
    }
}

extension EngineConfig.SchedulePolicy: ExpressibleByArgument {}
extension MoEBackend: ExpressibleByArgument {}
extension KVCacheDType: ExpressibleByArgument {}
