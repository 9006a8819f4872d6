import BenchKit
import Engine
import Foundation
import Testing

/// The JSON keys of `microbench --json` and `engine-bench --json` are named in issue 16: a
/// contract, so they are checked by name.
@Suite("machine-readable bench figures")
struct BenchFiguresTests {
    static func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func microbenchKeys() throws {
        let path = KernelPath(cpu: "AMD EPYC", isa: "avx2", vnni: false, decodeKernel: "int16-avx2 (Q4_1)",
                              prefillKernel: "sgemm", blas: "OpenBLAS Zen", threads: 2)
        let o = try Self.object(BenchJSON.encode(MicrobenchFigures(model: "m", pp: 512, tg: 128, depth: 0, prefillTokensPerS: 300.5,
                                                                   decodeTokensPerS: 70.25, path: path)))
        #expect(Set(o.keys) == ["model", "pp", "tg", "depth", "prefill_tokens_per_s", "decode_tokens_per_s", "path"])
        #expect(o["pp"] as? Int == 512 && o["tg"] as? Int == 128 && o["depth"] as? Int == 0)
        #expect(o["decode_tokens_per_s"] as? Double == 70.25)
        let p = try #require(o["path"] as? [String: Any])
        #expect(Set(p.keys) == ["cpu", "isa", "vnni", "decode_kernel", "prefill_kernel", "blas", "threads"])
        #expect(p["isa"] as? String == "avx2")
    }

    @Test func engineBenchKeysStayWhenAGapIsMissing() throws {
        let o = try Self.object(BenchJSON.encode(EngineBenchJSON(
            concurrency: 16, decodeTokensPerS: 120, endToEndTokensPerS: 100, gapP50Us: 31, gapP99Us: nil,
            prefillToDecodeGapUs: nil, overlap: true, overlapRatio: 0.9)))
        #expect(Set(o.keys) == ["concurrency", "decode_tokens_per_s", "end_to_end_tokens_per_s", "gap_p50_us", "gap_p99_us",
                                "prefill_to_decode_gap_us", "overlap", "overlap_ratio"])
        #expect(o["gap_p99_us"] is NSNull)
        #expect(o["gap_p50_us"] as? Double == 31)
        #expect(o["overlap"] as? Bool == true)
    }

    @Test func thisMachinesPathNamesItsKernels() {
        let p = KernelPath.current(weightType: .q4_1)
        #expect(["scalar", "avx2", "avx512"].contains(p.isa))
        #expect(p.decodeKernel.hasPrefix("int16-") && p.decodeKernel.hasSuffix("(Q4_1)"))
        #expect(KernelPath.current(weightType: .q4_1, activations: .int8).decodeKernel.hasPrefix("int8-"))
        #expect(p.threads >= 1)
        #expect(KernelPath.current(weightType: .q4_1, activations: .fp32).decodeKernel.hasPrefix("fp32-"))
    }
}
