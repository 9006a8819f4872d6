import ArgumentParser
import Engine
import Foundation

/// Forward-pass speed on synthetic tokens: llama-bench's pp/tg figures for this engine.
struct Microbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time prefill (pp) and decode (tg) of the forward pass, as llama-bench does.")

    @Option(name: .long, help: "Catalog name or path of a GGUF file.") var model = ModelCatalog.defaultModel
    @Option(name: .customLong("pp"), help: "Prompt tokens for the prefill figure.") var promptTokens = 512
    @Option(name: .customLong("tg"), help: "Tokens generated for the decode figure.") var decodeTokens = 128
    @Option(name: .long, help: "Repetitions; the median is reported.") var repetitions = 3

    func run() throws {
        let path: String
        do { path = try ModelCatalog().resolve(model) } catch { throw CLIError(error.description) }
        let m = try ModelRegistry.load(gguf: try GGUFFile(path: path))
        let runner = SequenceRunner(model: m, kvTokens: promptTokens + decodeTokens + 16)
        var gen = SeededGenerator(seed: 1)
        let prompt = (0 ..< promptTokens).map { _ in Int32(gen.next() % UInt64(m.info.vocabSize)) }
        var pp: [Double] = [], tg: [Double] = []
        for _ in 0 ..< repetitions + 1 {
            runner.reset()
            let t0 = DispatchTime.now().uptimeNanoseconds
            var logits = try runner.extend(prompt)
            let t1 = DispatchTime.now().uptimeNanoseconds
            for _ in 0 ..< decodeTokens { logits = try runner.extend([Sampler.argmax(logits.row(0))]) }
            let t2 = DispatchTime.now().uptimeNanoseconds
            pp.append(Double(promptTokens) / (Double(t1 - t0) / 1e9))
            tg.append(Double(decodeTokens) / (Double(t2 - t1) / 1e9))
        }
        // The first repetition warms caches and the page map; it is not reported.
        let med = { (a: [Double]) in a.dropFirst().sorted()[(a.count - 1) / 2] }
        print(String(format: "%@  pp%d %.1f t/s   tg%d %.1f t/s   (median of %d)", m.info.name, promptTokens, med(pp), decodeTokens, med(tg), repetitions))
    }
}
