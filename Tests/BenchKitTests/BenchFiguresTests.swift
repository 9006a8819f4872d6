import BenchKit
import Engine
import Foundation
import Kernels
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

    @Test func microbenchKeysWithTheDecodeDispatch() throws {
        let path = KernelPath(cpu: "AMD EPYC", isa: "avx2", vnni: false, decodeKernel: "int16-avx2 (Q4_1)",
                              prefillKernel: "sgemm", blas: "OpenBLAS Zen", threads: 2)
        var c = PoolCounters()
        c.regions = 302; c.smallSerial = 60; c.backoffSerial = 2; c.stalls = 1; c.leftOut = 4
        c.regionNs = 20_000_000; c.waitNs = 2_000_000; c.serialNs = 1_000_000
        let dispatch = DecodeDispatch(c, steps: 2, ns: 24_000_000)
        #expect(dispatch.regionsPerStep == 151 && dispatch.smallSerialPerStep == 30 && dispatch.backoffSerialPerStep == 1)
        #expect(dispatch.leftOutPerStep == 2 && dispatch.stalls == 1)
        #expect(dispatch.stepUs == 12_000 && dispatch.regionUs == 10_000 && dispatch.waitUs == 1_000 && dispatch.serialUs == 500)
        #expect(dispatch.outsideUs == 1_500)
        let o = try Self.object(BenchJSON.encode(MicrobenchFigures(model: "m", pp: 512, tg: 128, prefillTokensPerS: 300.5,
                                                                   decodeTokensPerS: 70.25, path: path, decodeDispatch: dispatch)))
        // The six keys stay; the dispatch figures come as one more.
        #expect(Set(o.keys) == ["model", "pp", "tg", "depth", "prefill_tokens_per_s", "decode_tokens_per_s", "path", "decode_dispatch"])
        let d = try #require(o["decode_dispatch"] as? [String: Any])
        #expect(Set(d.keys) == ["steps", "regions_per_step", "left_out_per_step", "small_serial_per_step", "backoff_serial_per_step",
                                "stalls", "step_us", "region_us", "wait_us", "serial_us", "outside_us"])
        #expect(d["regions_per_step"] as? Double == 151)
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
        // Batches name their own kernel only where it is another one: the 512-bit token-pair
        // kernel, on a CPU with AVX-512 VNNI where it measured faster (forced here), for int16.
        let vnni512 = p.isa == "avx512" && p.vnni
        if p.batchKernel != nil { #expect(vnni512) }
        let pairs = rs_set_thread_int16_pairs(1)
        defer { rs_set_thread_int16_pairs(pairs) }
        // Q5_K is never interleaved.
        let forced = KernelPath.current(weightType: .q5_K)
        #expect((forced.batchKernel?.hasPrefix("int16-avx512vnni-zmm") ?? false) == vnni512)
        #expect(KernelPath.current(weightType: .q5_K, activations: .int8).batchKernel == nil)
        // Q4_1 loads interleaved there, one kernel for every width; in the file's layout it
        // takes the token-pair kernel too.
        let x16 = KernelPath.current(weightType: .q4_1, interleaved: true)
        #expect(x16.decodeKernel.hasPrefix("int16-x16-avx512vnni") == vnni512)
        if vnni512 { #expect(x16.batchKernel == nil) }
        #expect((KernelPath.current(weightType: .q4_1, interleaved: false).batchKernel?.hasPrefix("int16-avx512vnni-zmm") ?? false) == vnni512)
    }

    @Test func theBatchKernelKeyAppearsOnlyWhenSet() throws {
        let path = KernelPath(cpu: "Xeon", isa: "avx512", vnni: true, decodeKernel: "int16-avx512vnni (Q4_1)",
                              batchKernel: "int16-avx512vnni-zmm (Q4_1, 6 tokens or more)", prefillKernel: "sgemm", blas: "OpenBLAS", threads: 2)
        let p = try #require(try Self.object(BenchJSON.encode(path)) as [String: Any]?)
        #expect(p["batch_kernel"] as? String == "int16-avx512vnni-zmm (Q4_1, 6 tokens or more)")
        #expect(path.summary.contains("batches int16-avx512vnni-zmm"))
        #expect(p["kv_cache"] == nil && !path.summary.contains("kv cache"))
    }

    @Test func theKVCacheKeyNamesThePrecision() throws {
        var path = KernelPath(cpu: "EPYC", isa: "avx512", vnni: true, decodeKernel: "int16-avx512vnni (Q4_1)",
                              prefillKernel: "sgemm", blas: "OpenBLAS", threads: 2)
        path.kvCache = KVCache.Precision.float16.rawValue
        let p = try #require(try Self.object(BenchJSON.encode(path)) as [String: Any]?)
        #expect(p["kv_cache"] as? String == "float16")
        #expect(path.summary.contains("kv cache float16"))
    }
}
