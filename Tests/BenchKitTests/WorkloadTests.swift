import BenchKit
import Testing

@Suite("bench workloads")
struct WorkloadTests {
    @Test func randomPromptsHaveTheAskedLengthsAndIds() {
        var spec = WorkloadSpec()
        spec.numPrompts = 50
        spec.inputLen = 40
        spec.outputLen = 7
        spec.vocabSize = 500
        let fixed = spec.requests()
        #expect(fixed.count == 50)
        #expect(fixed.allSatisfy { $0.prompt.count == 40 && $0.outputLen == 7 && $0.conversation == -1 })
        #expect(fixed.allSatisfy { $0.prompt.allSatisfy { $0 >= 100 && $0 < 500 } })
        spec.rangeRatio = 0.5
        let ranged = spec.requests()
        let lengths = ranged.map(\.prompt.count), outputs = ranged.map(\.outputLen)
        #expect(lengths.allSatisfy { (20 ... 40).contains($0) } && Set(lengths).count > 5)
        #expect(outputs.allSatisfy { (3 ... 7).contains($0) } && Set(outputs).count > 1)
    }

    @Test func theSeedDecidesTheTokens() {
        var spec = WorkloadSpec()
        spec.numPrompts = 4
        let a = spec.requests().map(\.prompt), b = spec.requests().map(\.prompt)
        spec.seed = 2
        let c = spec.requests().map(\.prompt)
        #expect(a == b)
        #expect(a != c)
    }

    /// Each group's prompts share exactly the system prompt, and the groups arrive interleaved.
    @Test func sharedPrefixGroupsShareTheirSystemPromptOnly() {
        var spec = WorkloadSpec()
        spec.kind = .sharedPrefix
        spec.groups = 5
        spec.promptsPerGroup = 6
        spec.systemPromptLen = 32
        spec.questionLen = 8
        let reqs = spec.requests()
        #expect(reqs.count == 30)
        #expect(reqs.allSatisfy { $0.prompt.count == 40 })
        let byPrefix = Dictionary(grouping: reqs.indices) { Array(reqs[$0].prompt.prefix(32)) }
        #expect(byPrefix.count == 5)
        #expect(byPrefix.values.allSatisfy { $0.count == 6 })
        // Questions differ within a group (random 8-token tails colliding is ~impossible).
        #expect(byPrefix.values.allSatisfy { Set($0.map { reqs[$0].prompt.suffix(8) }).count == 6 })
        // Interleaved: the first 6 arrivals are not one group.
        #expect(Set(reqs.prefix(6).map { Array($0.prompt.prefix(32)) }).count > 1)
    }

    @Test func multiTurnSendsEachConversationOncePerTurnInTurnOrder() {
        var spec = WorkloadSpec()
        spec.kind = .multiTurn
        spec.conversations = 3
        spec.turns = 4
        spec.questionLen = 10
        let reqs = spec.requests()
        #expect(reqs.count == 12)
        #expect(reqs.map(\.turn) == reqs.map(\.turn).sorted())
        for t in 0 ..< 4 { #expect(reqs.filter { $0.turn == t }.map(\.conversation).sorted() == [0, 1, 2]) }
        #expect(reqs.allSatisfy { $0.prompt.count == 10 })
    }

    @Test func descriptionsNameTheShapeAndTheLoad() {
        var spec = WorkloadSpec()
        #expect(spec.describe(load: "concurrency 16") == "random 64 x 128 in / 128 out, concurrency 16")
        spec.kind = .sharedPrefix
        #expect(spec.describe(load: "all at once") == "shared-prefix 8 groups x 8, system 512 + question 64, 128 out, all at once")
        spec.kind = .multiTurn
        #expect(spec.describe(load: "2.0 req/s") == "multi-turn 8 conversations x 4 turns, question 64, 128 out, 2.0 req/s")
    }

    @Test func warmUpIsShortRandomAndApartFromTheRun() {
        var spec = WorkloadSpec()
        spec.kind = .sharedPrefix
        spec.outputLen = 100
        spec.vocabSize = 1000
        let warm = spec.warmUp(count: 2)
        #expect(warm.kind == .random && warm.numPrompts == 2 && warm.outputLen == 16)
        let measured = Set(spec.requests().map(\.prompt))
        #expect(warm.requests().allSatisfy { !measured.contains($0.prompt) })
    }
}

@Suite("bench text workloads")
struct TextWorkloadTests {
    /// A stand-in chat renderer: one id per character, so the prompt's text can be read back.
    static let chat: @Sendable (String) -> [Int32] = { text in text.unicodeScalars.map { Int32($0.value) } }

    static func texts(_ kind: Workload, _ n: Int) -> [String] {
        var spec = WorkloadSpec()
        spec.kind = kind
        spec.numPrompts = n
        spec.outputLen = 9
        spec.chat = chat
        return spec.requests().map { r in
            #expect(r.outputLen == 9)
            return String(String.UnicodeScalarView(r.prompt.compactMap { Unicode.Scalar(UInt32($0)) }))
        }
    }

    @Test func rewritePromptsCarryAPassageAndAnInstruction() {
        let t = Self.texts(.rewrite, 12)
        #expect(t.count == 12)
        #expect(t.allSatisfy { $0.hasPrefix("Rewrite") || $0.hasPrefix("Copy") })
        // Every prompt holds a passage of at least 60 words after its instruction.
        #expect(t.allSatisfy { $0.split(separator: "\n\n").last!.split(separator: " ").count >= 60 })
        #expect(Set(t).count == 12, "passages and instructions combine into distinct prompts")
    }

    @Test func openEndedPromptsAreQuestionsWithoutPassages() {
        let t = Self.texts(.openEnded, 8)
        #expect(Set(t).count == 8)
        #expect(t.allSatisfy { !$0.contains("\n") && $0.split(separator: " ").count < 20 })
        #expect(Workload.openEnded.isText && Workload.rewrite.isText && !Workload.random.isText)
    }

    /// Chat answers end where the model ends them; token-id workloads keep bench_serving's
    /// fixed output lengths (`bench --ignore-eos / --no-ignore-eos` overrides either).
    @Test func chatWorkloadsStopAtEndOfSequenceByDefault() {
        #expect(Workload.allCases.filter(\.ignoresEOSByDefault) == [.random, .sharedPrefix, .multiTurn])
    }
}
