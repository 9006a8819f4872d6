import ArgumentParser
import BenchKit
import Engine
import Foundation

/// Forward-pass speed on synthetic tokens: llama-bench's pp/tg figures for this engine.
struct Microbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time prefill (pp) and decode (tg) of the forward pass, as llama-bench does.")

    @OptionGroup var options: ModelOptions
    @Option(name: .customLong("pp"), help: "Prompt tokens for the prefill figure.") var promptTokens = 512
    @Option(name: .customLong("tg"), help: "Tokens generated for the decode figure.") var decodeTokens = 128
    @Option(name: .long, help: "Tokens in the cache before the decode figure, as llama-bench's -d (its tg128 is depth 0).")
    var depth = 0
    @Option(name: .long, help: "Repetitions; the median is reported.") var repetitions = 3
    @Flag(name: .long, help: "Time one MoE layer at Ling-mini-2.0's shapes instead: grouped vs dense vs a per-token loop.")
    var moe = false
    @Option(name: .customLong("moe-tokens"), parsing: .upToNextOption) var moeTokens: [Int] = [1, 16, 256]
    @Option(name: .customLong("moe-paths"), parsing: .upToNextOption, help: "Which of grouped, dense, naive to time.")
    var moePaths: [String] = MoEBenchmark.Path.allCases.map(\.rawValue)
    @Option(name: .customLong("moe-quantize"), help: "Quantize the experts to q8_0 or q4_0 first, as --quantize does on load.")
    var moeQuantize: String?
    @Flag(name: .long, help: "Print one JSON object (model, pp, tg, prefill_tokens_per_s, decode_tokens_per_s, path, decode_dispatch).")
    var json = false
    @Flag(name: .customLong("fp32-activations"), help: "Decode with fp32 activations instead of int16-quantized ones.")
    var fp32Activations = false
    @Flag(name: .customLong("bf16-prompts"), inversion: .prefixedNo,
          help: "Prefill in bf16 on CPUs with AVX-512 BF16 (on by default, as the engine's --bf16-prompts).")
    var bf16Prompts = true
    @Option(name: .long, help: "Decode activations: int16 (the default), int8 or fp32.")
    var activations: String?
    @Option(name: .long, help: "Run narrower kernels than the CPU allows: scalar, avx2 or avx512.")
    var isa: String?
    @Flag(name: .long, help: "Time the model's tokenizer encoding 100 kB of mixed text instead.")
    var tokenizer = false
    @Option(name: .customLong("step-widths"), parsing: .upToNextOption,
            help: "Time one decode step of each of these many tokens (a speculative verification's width) after a --pp prompt, logits for all, instead.")
    var stepWidths: [Int] = []
    @Option(name: .customLong("gemv-max-tokens"), help: "With --step-widths: products of at most this many tokens take the matrix-vector kernels, wider ones panels + sgemm (default: the engine's).")
    var gemvMaxTokens: Int?

    func run() throws {
        if moe { return try runMoE() }
        if tokenizer { return try runTokenizer() }
        if let isa { do { try KernelPath.lowerISA(to: isa) } catch { throw CLIError(error.description) } }
        KernelPath.bf16Prompts = bf16Prompts
        if let activations, ActivationFormat(rawValue: activations) == nil {
            throw CLIError("--activations takes int16, int8 or fp32, not '\(activations)'")
        }
        let loaded = try options.load()
        if !stepWidths.isEmpty { return try runStepWidths(loaded) }
        let m = loaded.model
        let activations = chosenActivations
        var kernels = KernelPath.current(weightType: KernelPath.dominantType(atPath: loaded.path), activations: activations)
        kernels.kvCache = m.kvPrecision(for: activations).rawValue
        if !json { print(kernels.summary) }
        guard depth >= 0 else { throw CLIError("--depth must be >= 0") }
        let rates = try ForwardBench(promptTokens: promptTokens, decodeTokens: decodeTokens, depth: depth, repetitions: repetitions)
            .run(m, activations: activations)
        if json {
            print(try BenchJSON.encode(MicrobenchFigures(model: m.info.name, pp: promptTokens, tg: decodeTokens, depth: depth,
                                                         prefillTokensPerS: rates.prefill, decodeTokensPerS: rates.decode,
                                                         path: kernels, decodeDispatch: rates.decodeDispatch)))
            return
        }
        let tg = depth > 0 ? "tg\(decodeTokens) @ d\(depth)" : "tg\(decodeTokens)"
        print(String(format: "%@  pp%d %.1f t/s   %@ %.1f t/s   (median of %d)", m.info.name, promptTokens, rates.prefill, tg, rates.decode, repetitions))
        print(rates.decodeDispatch.summary)
    }
}

extension Microbench {
    /// --fp32-activations wins over --activations (checked in `run`); int16 by default.
    var chosenActivations: ActivationFormat {
        fp32Activations ? .fp32 : activations.flatMap(ActivationFormat.init(rawValue:)) ?? .standard
    }

    /// What a step of k tokens costs against a step of one (`StepWidthBench`).
    func runStepWidths(_ loaded: LoadedModel) throws {
        guard stepWidths.allSatisfy({ $0 >= 1 && $0 <= 256 }) else { throw CLIError("--step-widths takes widths in 1...256") }
        if let g = gemvMaxTokens {
            guard g >= 1 else { throw CLIError("--gemv-max-tokens must be >= 1") }
            KernelPath.matrixVectorMaxTokens = g
        }
        let m = loaded.model
        let activations = chosenActivations
        let kernels = KernelPath.current(weightType: KernelPath.dominantType(atPath: loaded.path), activations: activations)
        let bench = StepWidthBench(widths: stepWidths, context: promptTokens, steps: max(8, decodeTokens / 8), repetitions: repetitions)
        let rows = try bench.run(m, activations: activations)
        if json {
            print(try BenchJSON.encode(StepWidthBench.Report(model: m.info.name, context: promptTokens, steps: rows)))
            return
        }
        print(kernels.summary)
        print("\(m.info.name), context \(promptTokens), \(bench.steps) steps per width, median of \(repetitions)")
        for line in StepWidthBench.lines(rows) { print(line) }
    }

    /// One MoE layer (hidden 2048, 256 experts of 512, top-8 in 4 of 8 groups, bf16) on random
    /// tokens: the median time of each path, and the ratios the MoE issue asks about.
    func runMoE() throws {
        let quantize = moeQuantize.flatMap(LoadQuantization.init(rawValue:))
        if let q = moeQuantize, quantize == nil { throw CLIError("--moe-quantize takes q8_0 or q4_0, not '\(q)'") }
        let paths = try moePaths.map { name in
            guard let p = MoEBenchmark.Path(rawValue: name) else {
                throw CLIError("--moe-paths takes \(MoEBenchmark.Path.allCases.map(\.rawValue).joined(separator: ", ")), not '\(name)'")
            }
            return p
        }
        FileHandle.standardError.write(Data("building 256 random bf16 experts (1.6 GB)\(quantize.map { ", quantized to \($0.rawValue)" } ?? "")...\n".utf8))
        let bench = MoEBenchmark(quantize: quantize)
        var rng = SeededGenerator(seed: 7)
        let table = MoETable(paths: paths, repetitions: repetitions)
        print(MoETable.header)
        for n in moeTokens { print(table.row(bench, tokens: n, rng: &rng).line) }
    }
}
