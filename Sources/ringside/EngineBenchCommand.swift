import ArgumentParser
import BenchKit
import Engine

struct EngineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench",
        abstract: "Aggregate decode tokens/s and host gaps at several concurrency levels.",
        discussion: "The KV cache holds 32768 tokens unless --kv-cache-tokens says otherwise.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var engineOptions: EngineOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Concurrent requests, one run each.") var concurrency: [Int] = [1, 4, 16]
    @Option(name: .customLong("input-len")) var inputLen = 128
    @Option(name: .customLong("output-len")) var outputLen = 128
    @Flag(name: .customLong("no-record"), help: "Turn the event recorder off.") var noRecord = false
    @Flag(name: .long, help: "Print one JSON object per concurrency level instead of the report.") var json = false

    func validate() throws {
        guard concurrency.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--concurrency must be >= 1") }
        guard inputLen >= 1, outputLen >= 1 else { throw ValidationError("--input-len and --output-len must be >= 1") }
    }

    func run() async throws {
        let loaded = try options.load()
        var config = try engineOptions.engineConfig(for: loaded)
        config.recordEvents = !noRecord
        config.kvCacheTokens = engineOptions.kvCacheTokens ?? 32768
        let engine = Engine(loaded, config: config)
        defer { engine.shutdown() }
        try await BenchKit.EngineBench(engine: engine, inputLen: inputLen, outputLen: outputLen)
            .run(concurrency: concurrency, json: json) { print($0) }
    }
}
