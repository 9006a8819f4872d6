import Engine
import Foundation
import Profiler

/// `ringside microbench --json`: llama-bench's two figures and the kernels that produced them.
public struct MicrobenchFigures: Codable, Sendable, Equatable {
    public var model: String
    public var pp: Int
    public var tg: Int
    /// Tokens in the cache when the decode figure starts (llama-bench's `-d`; 0 is its `tg`).
    public var depth: Int
    public var prefillTokensPerS: Double
    public var decodeTokensPerS: Double
    public var path: KernelPath

    enum CodingKeys: String, CodingKey {
        case model, pp, tg, depth, path
        case prefillTokensPerS = "prefill_tokens_per_s", decodeTokensPerS = "decode_tokens_per_s"
    }

    public init(model: String, pp: Int, tg: Int, depth: Int = 0, prefillTokensPerS: Double, decodeTokensPerS: Double, path: KernelPath) {
        self.model = model
        self.pp = pp
        self.tg = tg
        self.depth = depth
        self.prefillTokensPerS = prefillTokensPerS
        self.decodeTokensPerS = decodeTokensPerS
        self.path = path
    }
}

/// `ringside engine-bench --json`: one object per concurrency level. Gaps are device idle time
/// between batches in microseconds (nil when a run had none).
public struct EngineBenchJSON: Codable, Sendable, Equatable {
    public var concurrency: Int
    public var decodeTokensPerS: Double
    public var endToEndTokensPerS: Double
    public var gapP50Us: Double?
    public var gapP99Us: Double?
    public var prefillToDecodeGapUs: Double?
    /// The overlap scheduler was on.
    public var overlap: Bool
    /// Share of device busy time during which the host was busy too.
    public var overlapRatio: Double?

    enum CodingKeys: String, CodingKey {
        case concurrency, overlap
        case decodeTokensPerS = "decode_tokens_per_s", endToEndTokensPerS = "end_to_end_tokens_per_s"
        case gapP50Us = "gap_p50_us", gapP99Us = "gap_p99_us", prefillToDecodeGapUs = "prefill_to_decode_gap_us"
        case overlapRatio = "overlap_ratio"
    }

    /// Every named key is always written; a missing gap is null, not an absent key.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(concurrency, forKey: .concurrency)
        try c.encode(decodeTokensPerS, forKey: .decodeTokensPerS)
        try c.encode(endToEndTokensPerS, forKey: .endToEndTokensPerS)
        try c.encode(gapP50Us, forKey: .gapP50Us)
        try c.encode(gapP99Us, forKey: .gapP99Us)
        try c.encode(prefillToDecodeGapUs, forKey: .prefillToDecodeGapUs)
        try c.encode(overlap, forKey: .overlap)
        try c.encode(overlapRatio, forKey: .overlapRatio)
    }

    public init(concurrency: Int, decodeTokensPerS: Double, endToEndTokensPerS: Double, gapP50Us: Double?, gapP99Us: Double?,
                prefillToDecodeGapUs: Double?, overlap: Bool, overlapRatio: Double?) {
        self.concurrency = concurrency
        self.decodeTokensPerS = decodeTokensPerS
        self.endToEndTokensPerS = endToEndTokensPerS
        self.gapP50Us = gapP50Us
        self.gapP99Us = gapP99Us
        self.prefillToDecodeGapUs = prefillToDecodeGapUs
        self.overlap = overlap
        self.overlapRatio = overlapRatio
    }
}

public enum BenchJSON {
    /// One line of JSON with sorted keys.
    public static func encode(_ value: some Encodable) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }
}

extension EngineBenchFigures {
    /// This level's figures as `engine-bench --json` writes them.
    public var json: EngineBenchJSON {
        EngineBenchJSON(concurrency: concurrency, decodeTokensPerS: decode.tokensPerSecond, endToEndTokensPerS: endToEndTokensPerSecond,
                        gapP50Us: gaps.percentile(50), gapP99Us: gaps.percentile(99),
                        prefillToDecodeGapUs: Percentile.of(gaps.prefillToDecode, 50), overlap: overlap, overlapRatio: overlapRatio)
    }
}
