import ArgumentParser
import BenchKit
import Console
import Engine
import Foundation
import Profiler
import Remote

/// The load generator, after SGLang's `bench_serving`: the same workloads and report fields,
/// against the in-process engine or any OpenAI-compatible server.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput and latency under load (random, shared-prefix, multi-turn).")

    @OptionGroup var options: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @Option(name: .long, help: "Benchmark an OpenAI-compatible server at this base URL instead of the in-process engine.")
    var url: String?
    @Option(name: .long, help: "random, shared-prefix, multi-turn, rewrite (chat prompts to rewrite a given passage), open-ended (chat questions) or tasks (short reasoning questions: sums, sorting, letter counts); the last three use the model's tokenizer and template.") var workload = Workload.random
    @Option(name: .customLong("num-prompts")) var numPrompts = 64
    @Option(name: .customLong("input-len")) var inputLen = 128
    @Option(name: .customLong("output-len")) var outputLen = 128
    @Option(name: .customLong("range-ratio"), help: "Lengths uniform in [len*ratio, len].") var rangeRatio = 1.0
    @Option(name: .long, help: "shared-prefix: groups of prompts sharing a system prompt.") var groups = 8
    @Option(name: .customLong("prompts-per-group")) var promptsPerGroup = 8
    @Option(name: .customLong("system-prompt-len")) var systemPromptLen = 512
    @Option(name: .customLong("question-len")) var questionLen = 64
    @Option(name: .long, help: "multi-turn: conversations, each re-sending everything so far.") var conversations = 8
    @Option(name: .long) var turns = 4
    @Option(name: .long, help: "Most requests in flight.") var concurrency: Int?
    @Option(name: .customLong("request-rate"), help: "Poisson arrivals per second (default: all at once).") var requestRate: Double?
    @Option(name: .long) var seed: UInt64 = 1
    @Flag(inversion: .prefixedNo, help: "Generate exactly --output-len tokens, past end-of-sequence (default: on for random, shared-prefix and multi-turn; off for rewrite and open-ended, whose answers end at end-of-sequence).")
    var ignoreEOS: Bool?
    @Option(name: .long, help: "Requests run (and not counted) before measuring.") var warmup = 1
    @Option(name: .customLong("output-file"), help: "Write the report as JSON.") var outputFile: String?
    @Option(name: .long, help: "Write a Chrome trace (Perfetto) of the engine's timeline.") var trace: String?

    func validate() throws {
        guard numPrompts >= 1 || workload != .random else { throw ValidationError("--num-prompts must be >= 1") }
        guard inputLen >= 1, outputLen >= 1 else { throw ValidationError("--input-len and --output-len must be >= 1") }
        guard (0 ... 1).contains(rangeRatio) else { throw ValidationError("--range-ratio must be in [0, 1]") }
        if let c = concurrency, c < 1 { throw ValidationError("--concurrency must be >= 1") }
        if let r = requestRate, r <= 0 { throw ValidationError("--request-rate must be > 0") }
        if url != nil, trace != nil { throw ValidationError("--trace needs the in-process engine (no --url)") }
    }

    func run() async throws {
        let target: any BenchTarget
        var engine: Engine?
        var vocab = 32000
        var chat: (@Sendable (String) -> [Int32])?
        // Text workloads are tokenized here, with --url too: the server gets token ids.
        let local = url == nil || workload.isText ? try options.load() : nil
        if workload.isText, let loaded = local {
            chat = { text in (try? loaded.chatPrompt([ChatMessage(role: "user", content: text)])) ?? loaded.rawPrompt(text) }
            vocab = loaded.model.info.vocabSize
        }
        let remote = try url.map { u in
            do { return try RemoteClient(url: u) } catch { throw CLIError("\(error)") }
        }
        if let url, let remote {
            target = HTTPTarget(client: remote, url: url, model: options.model)
        } else {
            guard let loaded = local else { return }
            let e = Engine(loaded, config: try engineOptions.engineConfig(for: loaded))
            engine = e
            vocab = loaded.model.info.vocabSize
            target = EngineTarget(engine: e)
        }
        defer { engine?.shutdown() }

        var spec = WorkloadSpec()
        spec.kind = workload
        spec.numPrompts = numPrompts
        spec.inputLen = inputLen
        spec.outputLen = outputLen
        spec.rangeRatio = rangeRatio
        spec.groups = groups
        spec.promptsPerGroup = promptsPerGroup
        spec.systemPromptLen = systemPromptLen
        spec.questionLen = questionLen
        spec.conversations = conversations
        spec.turns = turns
        spec.seed = seed
        spec.vocabSize = vocab
        spec.chat = chat
        let requests = spec.requests()
        let runner = BenchRunner(target: target, concurrency: concurrency, requestRate: requestRate,
                                 ignoreEOS: ignoreEOS ?? workload.ignoresEOSByDefault, seed: seed, vocabSize: vocab)

        if warmup > 0 {
            let warm = await runner.run(spec.warmUp(count: warmup).requests(), counter: ResultCounter())
            if let bad = warm.first(where: { !$0.ok }) { throw CLIError("warm-up request failed: \(bad.error ?? "?")") }
        }

        // The server's own view of the run, when it has /metrics: scraped before and after.
        var before: (ServerKind, MetricsScrape)?
        if let found = try? await remote?.detect(), let scrape = found.1, found.0 != .unknown { before = (found.0, scrape) }
        let collector = engine.map { EventCollector($0.recorder) }
        let counter = ResultCounter()
        let progress = ProgressBar(total: requests.count) { counter.value }
        progress.start()
        let t0 = Date()
        let results = await runner.run(requests, counter: counter)
        let duration = Date().timeIntervalSince(t0)
        progress.stop()
        let events = collector?.stop() ?? []

        let load = concurrency.map { "concurrency \($0)" } ?? requestRate.map { "\($0) req/s" } ?? "all at once"
        var report = BenchReport(backend: target.name, workload: spec.describe(load: load), results: results, duration: duration)
        if engine != nil { report.addEngineEvents(events) }
        if let before, let last = try? await remote?.metrics() {
            report.server = ServerSide(kind: before.0, before: before.1, after: last)
        }
        await remote?.shutdown()
        print(report.table, terminator: "")
        if let outputFile {
            do { try report.json().write(to: URL(fileURLWithPath: outputFile)) } catch { throw CLIError("cannot write \(outputFile): \(error)") }
        }
        if let trace {
            do { try Data(ChromeTrace.json(events).utf8).write(to: URL(fileURLWithPath: trace)) } catch { throw CLIError("cannot write \(trace): \(error)") }
        }
        if report.completed == 0 { throw ExitCode.failure }
    }
}

extension Workload: ExpressibleByArgument {}
