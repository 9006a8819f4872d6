@testable import Engine
import Foundation
import Testing

/// A Hugging Face fixture folder and the goldens written for it by an independent forward pass
/// (transformers for Qwen3 and Qwen3-MoE; tiny-ring's own numpy pass).
struct HFGolden: Decodable {
    struct Prompt: Decodable {
        let prompt_text: String?
        let prompt_ids: [Int32]
        let logits: [[Float]]?
        let greedy_ids: [Int32]
    }

    struct Variant: Decodable {
        let config_overrides: [String: Bool]
        let prompts: [Prompt]
    }

    let prompts: [Prompt]
    let variants: [String: Variant]?

    static func folder(_ name: String) -> String? {
        Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)?.path
    }

    static func load(_ name: String) throws -> HFGolden {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)/golden", withExtension: "json"))
        return try JSONDecoder().decode(HFGolden.self, from: Data(contentsOf: url))
    }

    /// A copy of the folder with some config.json keys replaced.
    static func variantFolder(_ name: String, overrides: [String: Bool]) throws -> String {
        let src = try #require(folder(name))
        let dst = FileManager.default.temporaryDirectory.appendingPathComponent("ringside-\(name)-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: src, toPath: dst)
        let configPath = dst + "/config.json"
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        for (k, v) in overrides { config[k] = v }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        return dst
    }
}

enum HFChecks {
    /// Every prompt position's logits within `tolerance` of the golden, for each MoE backend.
    static func logits(_ loaded: LoadedModel, _ golden: [HFGolden.Prompt], tolerance: Float = 1e-3) throws {
        for backend in MoEBackend.allCases {
            (loaded.model as? MixtureOfExperts)?.moeBackend = backend
            for (i, p) in golden.enumerated() {
                guard let want = p.logits else { continue }
                // The reference's precision: fp32 activations and KV.
                let runner = SequenceRunner(model: loaded.model, kvTokens: 512, activations: .fp32)
                let got = try runner.extend(p.prompt_ids, allLogits: true)
                #expect(got.rows == want.count)
                var worst: Float = 0
                for r in 0 ..< min(got.rows, want.count) {
                    worst = max(worst, zip(got.row(r), want[r]).map { abs($0 - $1) }.max() ?? 0)
                }
                #expect(worst < tolerance, "prompt \(i), \(backend): max logit difference \(worst)")
            }
        }
        (loaded.model as? MixtureOfExperts)?.moeBackend = .grouped
    }

    /// Greedy ids through the engine, each prompt alone and all together with other traffic,
    /// for each MoE backend. Prompts in fp32: these random-weight models' greedy ids sit on logit
    /// gaps below bf16's rounding (bf16 prompts are checked on SmolLM2's reference outputs).
    static func greedy(_ loaded: LoadedModel, _ golden: [HFGolden.Prompt]) async throws {
        for backend in MoEBackend.allCases {
            var config = EngineConfig()
            config.bf16Prompts = false
            config.kvCacheTokens = 2048
            config.moeBackend = backend
            let engine = Engine(loaded, config: config)
            defer { engine.shutdown() }
            for p in golden {
                let alone = try await collect(engine.submit(EngineFixtures.greedy(p.prompt_ids, max: p.greedy_ids.count)))
                #expect(alone.ids == p.greedy_ids, "\(backend), alone")
            }
            let together = try await withThrowingTaskGroup(of: (Int, [Int32]).self) { group in
                for (i, p) in golden.enumerated() {
                    group.addTask { (i, try await collect(engine.submit(EngineFixtures.greedy(p.prompt_ids, max: p.greedy_ids.count))).ids) }
                    // Unrelated requests share the batches.
                    group.addTask { (-1, try await collect(engine.submit(EngineFixtures.greedy(Array(p.prompt_ids.reversed()), max: 5))).ids) }
                }
                return try await group.reduce(into: [Int: [Int32]]()) { $0[$1.0] = $1.1 }
            }
            for (i, p) in golden.enumerated() { #expect(together[i] == p.greedy_ids, "\(backend), batched, prompt \(i)") }
        }
    }
}

@Suite("Hugging Face models", .serialized)
struct HFModelTests {
    @Test(arguments: ["qwen3-tiny", "qwen3moe-tiny"])
    func matchesTransformers(_ name: String) async throws {
        let folder = try #require(HFGolden.folder(name))
        let golden = try HFGolden.load(name)
        let loaded = try LoadedModel(path: folder)
        for p in golden.prompts {
            if let text = p.prompt_text {
                #expect(loaded.tokenizer.encode(text, parseSpecial: true) == p.prompt_ids, "tokenizer.json encoding")
            }
        }
        try HFChecks.logits(loaded, golden.prompts)
        try await HFChecks.greedy(loaded, golden.prompts)
        for (name, v) in golden.variants ?? [:] {
            let dir = try HFGolden.variantFolder("qwen3moe-tiny", overrides: v.config_overrides)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let variant = try LoadedModel(path: dir)
            try HFChecks.logits(variant, v.prompts)
            _ = name
        }
    }

    @Test func missingTensorsAndUnknownArchitecturesAreNamed() throws {
        let dir = try HFGolden.variantFolder("qwen3-tiny", overrides: [:])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An architecture nobody registered.
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))) as? [String: Any])
        config["architectures"] = ["MambaForCausalLM"]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        #expect(throws: ModelFileError.self) { try LoadedModel(path: dir) }
        do { _ = try LoadedModel(path: dir) } catch { #expect("\(error)".contains("MambaForCausalLM")) }
        // The right architecture with one more layer than the weights have.
        config["architectures"] = ["Qwen3ForCausalLM"]
        config["num_hidden_layers"] = (config["num_hidden_layers"] as? Int ?? 2) + 1
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        do {
            _ = try LoadedModel(path: dir)
            Issue.record("loaded a model with a missing layer")
        } catch {
            #expect("\(error)".contains("model.layers.2."), "\(error)")
        }
        // A truncated weights file.
        let weights = dir + "/model.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: weights))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: weights))
        #expect(throws: ModelFileError.self) { try SafetensorsFile(path: weights) }
    }
}
