@testable import Engine
import Kernels
import Testing

/// The half KV cache: fp32 -> binary16 rounding against hand-worked values and the format's own
/// properties, F16C against the scalar definition, and which precision a run gets.
@Suite("half KV cache")
struct HalfKVCacheTests {
    /// Values whose halves follow from the format: 1 + 2^-11 lies halfway between 1 and the next
    /// half (ties to the even 1.0), 1 + 3 * 2^-11 halfway between two odd/even neighbours (up to
    /// 1 + 2^-9 = 0x3C02); 65504 is the largest half, 65520 the tie past it (infinity); 2^-24 the
    /// smallest subnormal, 2^-25 its tie with zero (even: zero), 3 * 2^-26 above that tie;
    /// 2^-14 - 2^-24 is the largest subnormal, and 2^-14 - 2^-25 its tie with the smallest normal
    /// (even: the normal).
    @Test func handWorkedValues() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000), (0.5, 0x3800), (1 + 0x1p-11, 0x3C00),
            (1 + 3 * 0x1p-11, 0x3C02), (65504, 0x7BFF), (65519.99, 0x7BFF), (65520, 0x7C00), (1e6, 0x7C00),
            (-.infinity, 0xFC00), (0x1p-14, 0x0400), (0x1p-24, 0x0001), (0x1p-25, 0x0000), (3 * 0x1p-26, 0x0001),
            (0x1.ff8p-15, 0x03FF), (0x1.ffcp-15, 0x0400), (1e-10, 0x0000),
        ]
        for (x, h) in cases { #expect(rs_fp32_to_fp16(x) == h, "\(x): \(String(rs_fp32_to_fp16(x), radix: 16)) vs \(String(h, radix: 16))") }
        #expect(rs_fp16_to_fp32(rs_fp32_to_fp16(.nan)).isNaN)
    }

    /// Every half that is a number comes back to itself, and a float lands on the nearer of the
    /// two halves around it.
    @Test func roundTripAndNearest() {
        for h in 0 ... UInt16.max where rs_fp16_to_fp32(h).isFinite || rs_fp16_to_fp32(h).isInfinite {
            #expect(rs_fp32_to_fp16(rs_fp16_to_fp32(h)) == h)
        }
        var rng = SeededGenerator(seed: 16)
        for _ in 0 ..< 20000 {
            let x = (rng.nextUnit() * 2 - 1) * Float(1 << Int(rng.next() % 20)) / 1024
            let h = rs_fp32_to_fp16(x)
            let y = rs_fp16_to_fp32(h)
            // The neighbours of h away from and towards zero.
            let up = rs_fp16_to_fp32(h &+ 1), down = h & 0x7FFF == 0 ? -y : rs_fp16_to_fp32(h &- 1)
            #expect(abs(x - y) <= abs(x - up) && abs(x - y) <= abs(x - down), "\(x) -> \(y)")
        }
    }

    /// The row conversion (F16C where the CPU has it) gives the scalar definition's bits, on
    /// every path this CPU runs.
    @Test func rowMatchesScalar() {
        var rng = SeededGenerator(seed: 7)
        let edges: [Float] = [65520, 65504, 0x1p-25, 3 * 0x1p-26, 1 + 0x1p-11, -0.0, .infinity, 1e-10]
        let src = edges + (0 ..< 203).map { _ in (rng.nextUnit() * 2 - 1) * 300 }
        for isa in ForcedISA.allCases where isa.runsHere {
            var dst = [UInt16](repeating: 0, count: src.count)
            isa.run { rs_fp32_to_fp16_row(src, &dst, Int64(src.count)) }
            #expect(dst == src.map(rs_fp32_to_fp16), "\(isa)")
        }
    }

    /// The default pool from 4 GiB free (a quarter of it): 6 layers x 128 K and 128 V halves are
    /// 3072 bytes a token, 349525 tokens; with an MTP layer (hidden 512) 7 x 512 + 2048 = 5632
    /// bytes, 190650 tokens; fp32 doubles the KV part.
    @Test func defaultPoolCountsWhatATokenCosts() {
        let info = ModelInfo(architecture: "llama", name: "m", vocabSize: 100, contextLength: 1 << 20, layers: 6, kvDim: 128,
                             parameterCount: 0, weightBytes: 0)
        #expect(Scheduler.defaultKVTokens(info: info, precision: .float16, free: 4 << 30) == 349_525)
        #expect(Scheduler.defaultKVTokens(info: info, precision: .float16, mtpHidden: 512, free: 4 << 30) == 190_650)
        #expect(Scheduler.defaultKVTokens(info: info, precision: .float32, free: 4 << 30) == 174_762)
    }

    /// Halves by default; fp32 with fp32 activations or when asked; fp32 for a model that keeps
    /// its own values in the cache.
    @Test func precisionChoice() throws {
        let loaded = try EngineFixtures.smol.get()
        var c = EngineConfig()
        #expect(c.kvPrecision(for: loaded.model) == .float16)
        c.fp32Activations = true
        #expect(c.kvPrecision(for: loaded.model) == .float32)
        c.kvCacheDType = .float16
        #expect(c.kvPrecision(for: loaded.model) == .float16)
        c = EngineConfig()
        c.kvCacheDType = .float32
        #expect(c.kvPrecision(for: loaded.model) == .float32)
        let echo = EchoModel(vocabSize: 100)
        #expect(EngineConfig().kvPrecision(for: echo) == .float32)

        let runner = SequenceRunner(model: loaded.model, kvTokens: 64)
        #expect(runner.cache.precision == .float16)
        runner.activations = .fp32
        #expect(runner.cache.precision == .float32 && runner.cache.slotCount >= 64)
        #expect(KVCache(layers: 2, kvDim: 8, tokens: 16, precision: .float16).bytesPerToken == 2 * 8 * 2 * 2)
    }
}
