import Engine
import Testing

@Suite("chunked prefill")
struct ChunkedPrefillTests {
    @Test func chunksOf2000TokensMatchOnePass() throws {
        let model = try ModelRegistry.load(gguf: TestModels.smol.get())
        let prompt = EngineFixtures.fillerPrompt(2000, seed: 99)
        let whole = SequenceRunner(model: model, kvTokens: 2048)
        whole.chunkSize = 2000
        let a = Array(try whole.extend(prompt).row(0))
        let chunked = SequenceRunner(model: model, kvTokens: 2048)
        chunked.chunkSize = 300
        let b = Array(try chunked.extend(prompt).row(0))
        let worst = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "max logit difference \(worst)")
    }
}
