@testable import Engine
import Testing

/// GGUF metadata mapped to config.json's keys, checked against the files' documented
/// hyperparameters (SmolLM2: the GGUF dump in MODELS.md 1; Gemma 3 270M: its config.json).
@Suite("GGUF configs")
struct GGUFConfigTests {
    @Test func smolLM2ReadsAsALlamaConfig() throws {
        let f = try TestModels.smol.get()
        let c = try GGUFConfig.load(LlamaConfig.self, gguf: f, arch: "llama")
        #expect(c.hiddenSize == 576 && c.numHiddenLayers == 30 && c.intermediateSize == 1536)
        #expect(c.numAttentionHeads == 9 && c.kvHeads == 3 && c.resolvedHeadDim == 64 && c.ropeDimensionCount == 64)
        #expect(c.rmsNormEps == Float(1e-5) && c.ropeTheta == 100_000)
        #expect(c.contextLength == 8192 && c.vocabSize == 49152 && c.tiesEmbeddings)
    }

    @Test func gemma3ReadsItsSlidingWindowLayout() throws {
        let f = try TestModels.gemma.get()
        let c = try GGUFConfig.load(Gemma3Config.self, gguf: f, arch: "gemma3")
        #expect(c.hiddenSize == 640 && c.numHiddenLayers == 18 && c.intermediateSize == 2048)
        #expect(c.numAttentionHeads == 4 && c.kvHeads == 1 && c.resolvedHeadDim == 256)
        #expect(c.slidingWindow == 512 && c.vocabSize == 262_144)
        #expect((0 ..< 18).filter { c.keys.isGlobal(layer: $0) } == [5, 11, 17])
    }

    @Test func aMissingKeyIsNamedAsTheFileSpellsIt() throws {
        let f = try TestModels.smol.get()
        // SmolLM2 is no gemma3 file: the first required key is reported under its GGUF name.
        let result = Result { () throws(ModelFileError) in try GGUFConfig.load(Gemma3Config.self, gguf: f, arch: "gemma3") }
        guard case let .failure(.missingKey(_, key)) = result else {
            Issue.record("expected a missing key")
            return
        }
        #expect(key == "gemma3.embedding_length")
    }
}
