@testable import Engine
import Foundation
import Testing

/// Chunked prefill through `Engine.submit`: the same greedy ids, and log-probabilities within
/// 1e-4, as one unchunked pass, for a fresh prompt and for a radix-cache hit whose uncached
/// remainder spans several chunks.
@Suite("chunked prefill through the engine", .serialized)
struct EngineChunkedPrefillTests {
    /// About 700 SmolLM2 tokens of ordinary prose: a model is confident on it, so greedy ids
    /// are stable, and long enough for many chunks.
    static let passage = """
    The lighthouse at the end of the harbour was built in 1871, after a winter storm drove three \
    fishing boats onto the rocks below the old chapel. The town raised the money itself: the baker \
    gave a week of bread sales, the schoolteacher organised a concert, and the harbour master \
    persuaded the owners of the larger ships to pay a small fee every time they came into port. \
    The tower rose slowly through the following summer. Its walls are granite, cut from a quarry \
    two miles inland and carried down the hill on carts pulled by horses. At the top sits a lamp \
    room with a brass roof, and inside it a great lens made of rings of glass, each ring bending \
    the light a little more than the one inside it, so that a single flame can be seen twenty \
    miles out to sea. For almost a hundred years a keeper lived in the small house at the foot of \
    the tower. He climbed the one hundred and twelve steps at dusk to light the lamp, wound the \
    clockwork that turned the lens every four hours through the night, and climbed them again at \
    dawn to put it out. He kept a log of the weather, the ships that passed, and anything unusual \
    he saw: a whale in the bay, a comet in the autumn of 1882, a fire on the far shore. Those logs \
    are now in the town museum, and they tell the story of the harbour better than any history \
    book. The entries are short and practical. Wind from the north west, strong. Two steamers and \
    a schooner passed before noon. Visibility poor after six. Sometimes the keeper allowed himself \
    a little more. One evening in March he wrote that the sea was as flat as a plate and the sky \
    so clear that he could count the lights of the villages along the coast. Another night he \
    described a storm so fierce that the windows of the lamp room shook in their frames and he \
    feared the glass would break. In 1964 the light was converted to electricity and the last \
    keeper left. The house stood empty for some years until a group of volunteers restored it and \
    opened it to visitors. Today children climb the stairs and look out from the gallery at the \
    top, and on clear days they can see the islands on the horizon. The lens still turns, though \
    now it is driven by a small motor instead of clockwork, and the light still flashes twice \
    every ten seconds, as it has done since the first night it was lit. Ships no longer depend on \
    it as they once did, since every vessel now carries satellite navigation, but the town has \
    never considered switching it off. When people are asked why, they usually give the same \
    answer. The light belongs to the harbour, they say, and the harbour would not be the same \
    without it. The museum has also kept the keeper's telescope, his oilskin coat and the brass \
    bell that he rang in fog, and every summer the volunteers hold an open day when anyone may \
    wind the old clockwork and watch the great lens turn in silence above the water. Visitors \
    who stay until evening can watch the light come on for the night, and many of them say that \
    this is the moment they remember best. The
    """

    /// This suite's own copy: a model is not reentrant, and other suites run alongside.
    static let smol = Result { try LoadedModel(path: TestModels.smolPath.get()) }

    struct Output: Equatable {
        var ids: [Int32]
        var logprobs: [TokenLogprob]
        var cached: Int
    }

    static func run(_ engine: Engine, _ prompt: [Int32], max: Int = 8) async throws -> Output {
        var req = EngineFixtures.greedy(prompt, max: max)
        req.topLogprobs = 5
        let c = try await collect(engine.submit(req))
        #expect(c.reason == .length)
        return Output(ids: c.ids, logprobs: c.logprobs, cached: c.usage?.cachedPromptTokens ?? -1)
    }

    static func compare(_ got: Output, _ want: Output, _ what: String) {
        #expect(got.ids == want.ids, "\(what): greedy ids")
        #expect(got.logprobs.count == want.logprobs.count, "\(what)")
        var worst: Float = 0
        for (g, w) in zip(got.logprobs, want.logprobs) {
            #expect(g.top.map(\.id) == w.top.map(\.id), "\(what): top-5 ids")
            worst = max(worst, abs(g.logprob - w.logprob))
            for (a, b) in zip(g.top, w.top) { worst = max(worst, abs(a.logprob - b.logprob)) }
        }
        #expect(worst < 1e-4, "\(what): largest log-probability difference \(worst)")
    }

    @Test func chunkedEqualsUnchunkedIncludingARadixHit() async throws {
        let loaded = try Self.smol.get()
        let prompt = loaded.rawPrompt(Self.passage)
        #expect(prompt.count > 600 && prompt.count < 800, "\(prompt.count) tokens")
        // A second prompt sharing the first 300 tokens (18 whole pages: 288 cached).
        let other = Array(prompt.prefix(300)) + loaded.rawPrompt(" The keeper's daughter later wrote a book about those years, and in it she")
            + Array(prompt.suffix(prompt.count - 300).prefix(250))

        // Reference: one pass per prompt, no cache.
        // fp32 activations: chunk boundaries decide which rows take the few-token integer kernels,
        // whose activation rounding differs from the panel products by about 1e-3 in logprob.
        let whole = try EngineFixtures.engine(model: loaded) {
            $0.chunkedPrefillSize = 4096; $0.radixCache = false; $0.fp32Activations = true
        }
        let wantA = try await Self.run(whole, prompt)
        let wantB = try await Self.run(whole, other)
        whole.shutdown()
        #expect(wantA.cached == 0 && wantB.cached == 0)

        // Chunks of 64 (the last one partial), and of a size that leaves a last chunk of 7
        // tokens or fewer (the few-token kernels take it), each with the radix cache on.
        let small = try #require((80 ... 120).first { (1 ... 7).contains(prompt.count % $0) })
        for chunk in [64, small] {
            let engine = try EngineFixtures.engine(model: loaded) { $0.chunkedPrefillSize = chunk; $0.fp32Activations = true }
            defer { engine.shutdown() }
            let a = try await Self.run(engine, prompt)
            Self.compare(a, wantA, "chunks of \(chunk)")
            #expect(a.cached == 0)
            // The shared 300 tokens come from the tree; the remaining ~320 take several chunks.
            let b = try await Self.run(engine, other)
            #expect(b.cached == 288, "cached \(b.cached)")
            #expect((other.count - b.cached) > 3 * chunk, "the uncached remainder spans several chunks")
            Self.compare(b, wantB, "radix hit, chunks of \(chunk)")
            #expect(engine.scheduler.invariantViolations.isEmpty)
        }
    }
}
