import Engine
import Foundation

/// `ringside microbench --tokenizer`: encoding speed of a model's tokenizer on about 100 kB of
/// mixed prose, code, JSON and non-Latin scripts, the best of several runs.
public struct TokenizerBench: Sendable {
    public var runs: Int

    public init(runs: Int = 5) { self.runs = max(1, runs) }

    public static let sample: String = {
        let piece = """
        The quick brown fox jumps over the lazy dog. In 1969, Apollo 11 landed on the Moon; \
        it's been 55 years since then, and we're still talking about it!
        def fibonacci(n: int) -> int:
            if n < 2:
                return n
            return fibonacci(n - 1) + fibonacci(n - 2)
        {"model": "SmolLM2", "params": 135000000, "tags": ["small", "fast"], "ok": true}
        Café au lait coûte 3,50 € à Paris. 東京は日本の首都です。 Привет, мир!

        """
        var text = ""
        while text.utf8.count < 100_000 { text += piece }
        return text
    }()

    public struct Result: Sendable, Equatable {
        public var bytes: Int
        public var tokens: Int
        public var bestSeconds: Double
        public var megabytesPerS: Double { Double(bytes) / bestSeconds / 1e6 }
    }

    public func run(_ tokenizer: any Tokenizer, text: String = TokenizerBench.sample) -> Result {
        var ids = tokenizer.encode(text, parseSpecial: false)
        var best = Double.infinity
        for _ in 0 ..< runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            ids = tokenizer.encode(text, parseSpecial: false)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return Result(bytes: text.utf8.count, tokens: ids.count, bestSeconds: best)
    }
}
