import Engine
import Foundation

extension Microbench {
    /// Encoding speed of the model's tokenizer on 100 kB of mixed prose, code, JSON and
    /// non-Latin scripts: the best of five runs, in MB/s.
    func runTokenizer() throws {
        let loaded = try options.load()
        let tok = loaded.tokenizer
        let sample = """
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
        while text.utf8.count < 100_000 { text += sample }
        var ids = tok.encode(text, parseSpecial: false)
        var best = Double.infinity
        for _ in 0 ..< max(1, repetitions) + 2 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            ids = tok.encode(text, parseSpecial: false)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let bytes = Double(text.utf8.count)
        print(String(format: "%@ tokenizer: %d bytes -> %d tokens in %.2f ms = %.1f MB/s (best of %d)",
                     loaded.model.info.name, Int(bytes), ids.count, best * 1000, bytes / best / 1e6, max(1, repetitions) + 2))
    }
}
