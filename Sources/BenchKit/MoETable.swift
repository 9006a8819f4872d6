import Engine
import Foundation

/// `ringside microbench --moe`: one MoE layer at Ling-mini-2.0's shapes, each backend's median
/// milliseconds per token count and the ratios the MoE issue asks about.
public struct MoETable: Sendable {
    public struct Row: Sendable, Equatable {
        public var tokens: Int
        /// Median milliseconds per path; a path not timed is absent.
        public var ms: [MoEBenchmark.Path: Double]

        public init(tokens: Int, ms: [MoEBenchmark.Path: Double]) {
            self.tokens = tokens
            self.ms = ms
        }

        /// How much slower the per-token loop is than the grouped kernel (above 1: grouped wins).
        public var naiveOverGrouped: Double { (ms[.naive] ?? .nan) / (ms[.grouped] ?? .nan) }
        public var denseOverGrouped: Double { (ms[.dense] ?? .nan) / (ms[.grouped] ?? .nan) }

        public var line: String {
            String(format: "%6d %12.2f %11.2f %11.2f %15.2f %14.2f", tokens, ms[.grouped] ?? .nan, ms[.dense] ?? .nan,
                   ms[.naive] ?? .nan, naiveOverGrouped, denseOverGrouped)
        }
    }

    public static let header = "tokens   grouped ms    dense ms    naive ms   naive/grouped  dense/grouped"

    public var paths: [MoEBenchmark.Path]
    public var repetitions: Int

    public init(paths: [MoEBenchmark.Path] = MoEBenchmark.Path.allCases, repetitions: Int = 3) {
        self.paths = paths
        self.repetitions = repetitions
    }

    /// Times every path; the first run of each is a warm-up. Every run routes tokens of its own,
    /// as each layer of a decode step does: with the same tokens, a path ran on the experts the
    /// path before it had left in the cache (Sapphire Rapids' 260 MB L3 holds a step's 57 MB), and
    /// the second path looked twice as fast at one token.
    public func row(_ bench: MoEBenchmark, tokens n: Int, rng: inout SeededGenerator) -> Row {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: n * bench.hidden)
        defer { out.deallocate() }
        var ms: [MoEBenchmark.Path: Double] = [:]
        for path in MoEBenchmark.Path.allCases where paths.contains(path) {
            // Dense at many tokens takes seconds; fewer repetitions there.
            let reps = path == .dense && n > 16 ? 1 : repetitions
            let times = (0 ... reps).map { _ in
                let x = (0 ..< n * bench.hidden).map { _ in Float(rng.next() % 2001) / 1000 - 1 }
                return x.withUnsafeBufferPointer { bench.time(path, x: $0.baseAddress!, tokens: n, out: out) }
            }
            ms[path] = ForwardBench.warmMedian(times) * 1000
        }
        return Row(tokens: n, ms: ms)
    }
}
