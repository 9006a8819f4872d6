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
    @Option(name: .long, help: "Decode activations: int16 (the default), int8 or fp32.")
    var activations: String?
    @Option(name: .long, help: "Run narrower kernels than the CPU allows: scalar, avx2 or avx512.")
    var isa: String?
    @Flag(name: .long, help: "Time the model's tokenizer encoding 100 kB of mixed text instead.")
    var tokenizer = false

    func run() throws {
        if moe { return try runMoE() }
        if tokenizer { return try runTokenizer() }
        if let isa { do { try KernelPath.lowerISA(to: isa) } catch { throw CLIError(error.description) } }
        if let activations, ActivationFormat(rawValue: activations) == nil {
            throw CLIError("--activations takes int16, int8 or fp32, not '\(activations)'")
        }
        let loaded = try options.load()
        let m = loaded.model
        let runner = SequenceRunner(model: m, kvTokens: promptTokens + decodeTokens + 16)
        runner.activations = fp32Activations ? .fp32 : activations.flatMap(ActivationFormat.init(rawValue:)) ?? .standard
        let kernels = KernelPath.current(weightType: KernelPath.dominantType(atPath: loaded.path), activations: runner.activations)
        if !json { print(kernels.summary) }
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
        if json {
            print(try BenchJSON.encode(MicrobenchFigures(model: m.info.name, pp: promptTokens, tg: decodeTokens,
                                                         prefillTokensPerS: med(pp), decodeTokensPerS: med(tg), path: kernels)))
            return
        }
        print(String(format: "%@  pp%d %.1f t/s   tg%d %.1f t/s   (median of %d)", m.info.name, promptTokens, med(pp), decodeTokens, med(tg), repetitions))
    }
}

extension Microbench {
    /// One MoE layer (hidden 2048, 256 experts of 512, top-8 in 4 of 8 groups, bf16) on random
    /// tokens: the median time of each path, and the ratios the MoE issue asks about.
    func runMoE() throws {
        let quantize = moeQuantize.flatMap(LoadQuantization.init(rawValue:))
        if let q = moeQuantize, quantize == nil { throw CLIError("--moe-quantize takes q8_0 or q4_0, not '\(q)'") }
        FileHandle.standardError.write(Data("building 256 random bf16 experts (1.6 GB)\(quantize.map { ", quantized to \($0.rawValue)" } ?? "")...\n".utf8))
        let bench = MoEBenchmark(quantize: quantize)
        var rng = SeededGenerator(seed: 7)
        print("tokens   grouped ms    dense ms    naive ms   naive/grouped  dense/grouped")
        for n in moeTokens {
            let x = (0 ..< n * bench.hidden).map { _ in Float(rng.next() % 2001) / 1000 - 1 }
            let out = UnsafeMutablePointer<Float>.allocate(capacity: n * bench.hidden)
            defer { out.deallocate() }
            var med: [MoEBenchmark.Path: Double] = [:]
            for path in MoEBenchmark.Path.allCases where moePaths.contains(path.rawValue) {
                // Dense at many tokens takes seconds; fewer repetitions there.
                let reps = path == .dense && n > 16 ? 1 : repetitions
                let times = (0 ... reps).map { _ in x.withUnsafeBufferPointer { bench.time(path, x: $0.baseAddress!, tokens: n, out: out) } }
                med[path] = times.dropFirst().sorted()[(times.count - 1) / 2] * 1000
            }
            let g = med[.grouped] ?? .nan, d = med[.dense] ?? .nan, nv = med[.naive] ?? .nan
            print(String(format: "%6d %12.2f %11.2f %11.2f %15.2f %14.2f", n, g, d, nv, nv / g, d / g))
        }
    }
}
