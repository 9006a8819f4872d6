import BenchKit
import Engine

extension Microbench {
    func runTokenizer() throws {
        let loaded = try options.load()
        let bench = TokenizerBench(runs: max(1, repetitions) + 2)
        let r = bench.run(loaded.tokenizer)
        print(String(format: "%@ tokenizer: %d bytes -> %d tokens in %.2f ms = %.1f MB/s (best of %d)",
                     loaded.model.info.name, r.bytes, r.tokens, r.bestSeconds * 1000, r.megabytesPerS, bench.runs))
    }
}
