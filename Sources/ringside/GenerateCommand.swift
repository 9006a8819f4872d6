import ArgumentParser
import Console
import Engine
import Foundation
import Profiler

/// One completion through the serving engine, streamed to stdout.
struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One completion to stdout.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @Option(name: .long, help: "The prompt text.") var prompt: String
    @Flag(name: .long, help: "Send the prompt as one user message through the model's chat template.") var chat = false
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 128
    @Option(name: .long, help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(name: .customLong("top-k"), help: "Keep the k most likely tokens (0: all).") var topK = 0
    @Option(name: .customLong("top-p"), help: "Nucleus sampling mass.") var topP: Float = 1
    @Option(name: .customLong("min-p"), help: "Drop tokens below this share of the best one's probability.") var minP: Float = 0
    @Option(name: .customLong("frequency-penalty")) var frequencyPenalty: Float = 0
    @Option(name: .customLong("presence-penalty")) var presencePenalty: Float = 0
    @Option(name: .customLong("repetition-penalty")) var repetitionPenalty: Float = 1
    @Option(name: .long, help: "Random seed (same seed, same output).") var seed: UInt64?
    @Option(name: .long, help: "Stop before this text (repeatable).") var stop: [String] = []
    @Flag(name: .customLong("ignore-eos"), help: "Keep generating past end-of-turn tokens.") var ignoreEOS = false
    @Option(name: .long, help: "Write a Chrome trace (Perfetto) of the engine's timeline.") var trace: String?
    @Flag(name: .long, help: "Print one JSON object with ids, text, top-5 logprobs of the first token and speeds.") var json = false

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard repetitionPenalty > 0 else { throw ValidationError("--repetition-penalty must be > 0") }
    }

    func run() async throws {
        let loaded = try options.load()
        let engine = Engine(loaded, config: try engineOptions.engineConfig(for: loaded))
        defer { engine.shutdown() }
        let params = SamplingParams(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                    frequencyPenalty: frequencyPenalty, presencePenalty: presencePenalty,
                                    repetitionPenalty: repetitionPenalty, seed: seed,
                                    maxTokens: maxTokens, ignoreEOS: ignoreEOS)
        let ids: [Int32]
        do {
            ids = chat ? try loaded.chatPrompt([ChatMessage(role: "user", content: prompt)]) : loaded.rawPrompt(prompt)
        } catch { throw CLIError("\(error)") }
        var request = GenerateRequest(input: .tokens(ids), params: params, stop: stop, topLogprobs: json ? 5 : nil)
        request.separateReasoning = chat

        let collector = trace.map { _ in EventCollector(engine.recorder) }
        var report = GenerateReport(model: loaded.model.info.name, prompt_ids: ids)
        let terminal = StreamedText(stdoutIsTerminal: isatty(1) != 0)
        do {
            for try await event in engine.submit(request) {
                report.add(event)
                if !json, case let .delta(text, reasoning, _, _) = event {
                    let (out, err) = terminal.render(text: text, reasoning: reasoning)
                    if !err.isEmpty { FileHandle.standardError.write(Data(err.utf8)) }
                    FileHandle.standardOutput.write(Data(out.utf8))
                }
            }
        } catch { throw CLIError("\(error)") }
        if let trace, let events = collector?.stop() {
            do { try Data(ChromeTrace.json(events).utf8).write(to: URL(fileURLWithPath: trace)) } catch { throw CLIError("cannot write \(trace): \(error)") }
        }
        if json {
            print(report.json)
        } else {
            print()
            FileHandle.standardError.write(Data((report.summary + "\n").utf8))
        }
    }
}
