import ArgumentParser
import Engine
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One completion to stdout.")

    @OptionGroup var options: ModelOptions
    @Option(name: .long, help: "The prompt text.") var prompt: String
    @Flag(name: .long, help: "Send the prompt as one user message through the model's chat template.") var chat = false
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 128
    @Option(name: .long, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).") var topK = 0
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass.") var topP: Float = 1
    @Option(name: .long, help: "Random seed (same seed, same output).") var seed: UInt64?
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-turn tokens.") var ignoreEOS = false
    @Flag(name: .long, help: "Print one JSON object with ids, text, logits and speeds.") var json = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
    }

    func run() throws {
        let loaded = try options.load()
        let ids: [Int32]
        do {
            ids = chat ? try loaded.chatPrompt([ChatMessage(role: "user", content: prompt)]) : loaded.rawPrompt(prompt)
        } catch { throw CLIError("\(error)") }
        guard !ids.isEmpty else { throw CLIError("the prompt is empty after tokenization") }
        let params = SamplingParams(temperature: temperature, topK: topK, topP: topP, seed: seed,
                                    maxTokens: maxTokens, ignoreEOS: ignoreEOS)
        let generator = Generator(loaded, kvTokens: options.kvCacheTokens)
        let result: GenerationResult
        do {
            result = try generator.generate(prompt: ids, params: params) { piece in
                if !json {
                    FileHandle.standardOutput.write(Data(piece.utf8))
                }
                return true
            }
        } catch { throw CLIError("\(error)") }
        if json {
            let report = Report(
                model: loaded.model.info.name, prompt_ids: result.promptIDs, output_ids: result.outputIDs,
                text: result.text, finish_reason: result.finishReason.rawValue,
                first_top5: result.firstTop5.map { [Double($0.0), Double($0.1)] },
                prefill_tokens_per_s: result.prefillTokensPerSecond, decode_tokens_per_s: result.decodeTokensPerSecond)
            let enc = JSONEncoder()
            enc.outputFormatting = [.withoutEscapingSlashes]
            print(String(decoding: try enc.encode(report), as: UTF8.self))
        } else {
            print()
            FileHandle.standardError.write(Data(String(
                format: "[%d prompt tokens, %.1f t/s prefill; %d generated, %.1f t/s decode; %@]\n",
                result.promptIDs.count, result.prefillTokensPerSecond, result.outputIDs.count,
                result.decodeTokensPerSecond, result.finishReason.rawValue).utf8))
        }
    }

    struct Report: Encodable {
        var model: String
        var prompt_ids: [Int32]
        var output_ids: [Int32]
        var text: String
        var finish_reason: String
        var first_top5: [[Double]]
        var prefill_tokens_per_s: Double
        var decode_tokens_per_s: Double
    }
}
