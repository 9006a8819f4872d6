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
    @Option(name: .long, help: "Repetitions; the median is reported.") var repetitions = 3
    @Flag(name: .long, help: "Time one MoE layer at Ling-mini-2.0's shapes instead: grouped vs dense vs a per-token loop.")
    var moe = false
    @Option(name: .customLong("moe-tokens"), parsing: .upToNextOption) var moeTokens: [Int] = [1, 16, 256]
    @Option(name: .customLong("moe-paths"), parsing: .upToNextOption, help: "Which of grouped, dense, naive to time.")
    var moePaths: [String] = MoEBenchmark.Path.allCases.map(\.rawValue)
    @Option(name: .customLong("moe-quantize"), help: "Quantize the experts to q8_0 or q4_0 first, as --quantize does on load.")
    var moeQuantize: String?
    @Flag(name: .long, help: "Print one JSON object (model, pp, tg, prefill_tokens_per_s, decode_tokens_per_s, path).")
    var json = false
    @Flag(name: .customLong("fp32-activations"), help: "Decode with fp32 activations instead of int16-quantized ones.")
    var fp32Activations = false
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
        let loaded = try options.load()
        if !stepWidths.isEmpty { return try runStepWidths(loaded) }
        let m = loaded.model
        let activations: ActivationFormat = fp32Activations ? .fp32 : .int16
        let kernels = KernelPath.current(weightType: KernelPath.dominantType(atPath: loaded.path), activations: activations)
        if !json { print(kernels.summary) }
        let rates = try ForwardBench(promptTokens: promptTokens, decodeTokens: decodeTokens, repetitions: repetitions)
            .run(m, activations: activations)
        if json {
            print(try BenchJSON.encode(MicrobenchFigures(model: m.info.name, pp: promptTokens, tg: decodeTokens,
                                                         prefillTokensPerS: rates.prefill, decodeTokensPerS: rates.decode,
                                                         path: kernels)))
            return
        }
        print(String(format: "%@  pp%d %.1f t/s   tg%d %.1f t/s   (median of %d)", m.info.name, promptTokens, rates.prefill, decodeTokens, rates.decode, repetitions))
    }
}

extension Microbench {
    /// What a step of k tokens costs against a step of one, at the same context: the price of
    /// verifying k - 1 drafts. Widths are interleaved within each repetition, so a change in
    /// the machine's load hits all of them alike.
    func runStepWidths(_ loaded: LoadedModel) throws {
        guard stepWidths.allSatisfy({ $0 >= 1 && $0 <= 256 }) else { throw CLIError("--step-widths takes widths in 1...256") }
        let m = loaded.model
        let maxWidth = stepWidths.max()!
        if let g = gemvMaxTokens { KernelPath.matrixVectorMaxTokens = g }
        let runner = SequenceRunner(model: m, kvTokens: promptTokens + maxWidth + 16)
        runner.activations = fp32Activations ? .fp32 : .int16
        let kernels = KernelPath.current(weightType: KernelPath.dominantType(atPath: loaded.path), activations: runner.activations)
        if !json { print(kernels.summary) }
        var gen = SeededGenerator(seed: 1)
        let prompt = (0 ..< promptTokens).map { _ in Int32(gen.next() % UInt64(m.info.vocabSize)) }
        try runner.extend(prompt)
        let steps = max(8, decodeTokens / 8)
        var times: [Int: [Double]] = [:], cpu: [Int: [Double]] = [:]
        // CPU time of the whole process (spinning pool workers included): on a loaded machine it
        // still says what the work costs where wall time says how long the neighbours took.
        func cpuNow() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
        }
        for rep in 0 ..< repetitions + 1 {
            for w in stepWidths {
                let tokens = (0 ..< w).map { _ in Int32(gen.next() % UInt64(m.info.vocabSize)) }
                let t0 = DispatchTime.now().uptimeNanoseconds, c0 = cpuNow()
                for _ in 0 ..< steps {
                    try runner.extend(tokens, allLogits: true)
                    runner.truncate(to: promptTokens)
                }
                let t1 = DispatchTime.now().uptimeNanoseconds, c1 = cpuNow()
                // The first repetition warms caches; it is not reported.
                if rep > 0 {
                    times[w, default: []].append(Double(t1 - t0) / 1e6 / Double(steps))
                    cpu[w, default: []].append((c1 - c0) / Double(steps))
                }
            }
        }
        let med = { (a: [Double]) in a.sorted()[(a.count - 1) / 2] }
        let base = times[1].map(med)
        if json {
            let rows = stepWidths.map { w in "{\"tokens\":\(w),\"ms\":\(med(times[w]!)),\"cpu_ms\":\(med(cpu[w]!))}" }
            print("{\"model\":\"\(m.info.name)\",\"context\":\(promptTokens),\"steps\":[\(rows.joined(separator: ","))]}")
            return
        }
        print("\(m.info.name), context \(promptTokens), \(steps) steps per width, median of \(repetitions)")
        let cpuBase = cpu[1].map(med)
        print("tokens   ms/step   ms/token   x one-token step   cpu ms/step   x one-token cpu")
        for w in stepWidths {
            let ms = med(times[w]!), c = med(cpu[w]!)
            print(String(format: "%6d %9.2f %10.2f %18.2f %13.2f %17.2f", w, ms, ms / Double(w), ms / (base ?? .nan), c, c / (cpuBase ?? .nan)))
        }
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
