import Engine
import Foundation
import Kernels
import Testing

/// Block decoders against ggml's own values (MODELS.md section 2 and gguf-py).
@Suite("ggml block dequantization")
struct DequantizationTests {
    /// MODELS.md 2, measured on the SmolLM2 file: [tensor, row, col, value].
    static let smolGroundTruth: [(String, Int, Int, Float)] = [
        ("blk.0.attn_q.weight", 0, 0, -0.09631348), ("blk.0.attn_q.weight", 0, 1, 0.15734863),
        ("blk.0.attn_q.weight", 0, 16, -0.22314453), ("blk.0.attn_q.weight", 0, 31, -0.09631348),
        ("blk.0.attn_q.weight", 0, 32, -0.3461914), ("blk.0.attn_q.weight", 1, 0, -0.11730957),
        ("blk.0.attn_q.weight", 575, 575, -0.25585938),
        ("token_embd.weight", 0, 0, -0.106544495), ("token_embd.weight", 0, 1, 0.032978058),
        ("token_embd.weight", 0, 31, -0.20040512), ("token_embd.weight", 1, 0, -0.023803711),
        ("token_embd.weight", 49151, 575, -0.04170227),
        ("token_embd.weight", 504, 0, 0.10960388), ("token_embd.weight", 504, 1, 0.01743698),
        ("token_embd.weight", 504, 2, -0.09465790), ("token_embd.weight", 504, 3, 0.08220291),
        ("token_embd.weight", 7042, 0, -0.09188652), ("token_embd.weight", 7042, 3, 0.02389050),
        ("blk.0.ffn_down.weight", 0, 0, -0.33081055), ("blk.0.ffn_down.weight", 0, 1, 0.34606934),
        ("blk.0.ffn_down.weight", 0, 2, 0.07531738), ("blk.0.ffn_down.weight", 0, 3, -0.46618652),
        ("blk.0.ffn_down.weight", 575, 1535, -0.18136597),
        ("blk.0.attn_norm.weight", 0, 0, 0.01397705), ("blk.0.attn_norm.weight", 0, 3, -0.03027344),
    ]

    static func row(_ f: GGUFFile, _ name: String, _ r: Int) throws -> [Float] {
        let t = try f.tensor(name)
        let cols = t.shape[0]
        let m = WeightMatrix(type: t.type, data: f.tensorData(t), rows: t.elementCount / cols, cols: cols)
        var out = [Float](repeating: .nan, count: cols)
        out.withUnsafeMutableBufferPointer { m.dequantizeRow(r, into: $0.baseAddress!) }
        return out
    }

    @Test("SmolLM2 Q4_1, Q8_0 and F32 tensors hold the values ggml reads")
    func smolGroundTruthValues() throws {
        let f = try TestModels.smol.get()
        for (name, r, c, expected) in Self.smolGroundTruth {
            let got = try Self.row(f, name, r)[c]
            #expect(abs(got - expected) <= 1e-7 * max(1, abs(expected)) * 10, "\(name)[\(r),\(c)] = \(got), expected \(expected)")
        }
    }

    struct RealTensor: Decodable { let type: String; let rows: Int; let cols: Int; let row0: [Float]; let row1: [Float]; let last_row_tail: [Float] }

    @Test("Gemma 3 Q5_0, Q4_K, Q6_K and Q8_0 tensors hold the values gguf-py reads")
    func gemmaRealTensors() throws {
        let f = try TestModels.gemma.get()
        let url = Bundle.module.url(forResource: "Fixtures/gemma_tensor_values", withExtension: "json")!
        let expected = try JSONDecoder().decode([String: RealTensor].self, from: Data(contentsOf: url))
        #expect(Set(expected.values.map(\.type)) == ["Q5_0", "Q4_K", "Q6_K", "Q8_0"])
        for (name, e) in expected {
            let t = try f.tensor(name)
            #expect(t.type.name == e.type && t.shape == [e.cols, e.rows])
            #expect(Array(try Self.row(f, name, 0).prefix(64)) == e.row0, "\(name) row 0")
            #expect(Array(try Self.row(f, name, 1).prefix(64)) == e.row1, "\(name) row 1")
            #expect(Array(try Self.row(f, name, e.rows - 1).suffix(64)) == e.last_row_tail, "\(name) last row")
        }
    }

    struct GoldenCase: Decodable { let type: String; let type_id: UInt32; let hex: String; let values: [Float] }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        while let a = it.next(), let b = it.next() {
            out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!)
        }
        return out
    }

    @Test("random blocks of every supported type decode as gguf-py decodes them, on both paths")
    func randomBlocksMatchGGUFPy() throws {
        let url = Bundle.module.url(forResource: "Fixtures/dequant_golden", withExtension: "json")!
        struct File: Decodable { let cases: [GoldenCase] }
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
        #expect(cases.count == 11)
        for c in cases {
            let raw = Self.bytes(hex: c.hex)
            let type = GGMLType(rawValue: c.type_id)
            #expect(type.name == c.type && type.isComputable)
            #expect(type.byteCount(values: c.values.count) == raw.count)
            var fast = [Float](repeating: .nan, count: c.values.count)
            var ref = fast
            raw.withUnsafeBytes { src in
                fast.withUnsafeMutableBufferPointer { rs_dequantize_row(Int32(c.type_id), src.baseAddress, $0.baseAddress, Int64(c.values.count)) }
                ref.withUnsafeMutableBufferPointer { rs_dequantize_row_ref(Int32(c.type_id), src.baseAddress, $0.baseAddress, Int64(c.values.count)) }
            }
            #expect(fast == c.values, "\(c.type) fast path")
            #expect(ref == c.values, "\(c.type) plain loop")
        }
    }

    static let dequantTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32]
    @Test("the scalar dequantizer gives the plain loops' bits", arguments: dequantTypes)
    func dequantScalar(type: GGMLType) { Self.pathMatchesPlainLoops(.scalar, type) }
    @Test("the AVX2 dequantizer gives the plain loops' bits", ForcedISA.avx2.trait, arguments: dequantTypes)
    func dequantAVX2(type: GGMLType) { Self.pathMatchesPlainLoops(.avx2, type) }
    @Test("the AVX-512 dequantizer gives the plain loops' bits", ForcedISA.avx512.trait, arguments: dequantTypes)
    func dequantAVX512(type: GGMLType) { Self.pathMatchesPlainLoops(.avx512, type) }

    /// Random bytes (scales included, so NaN, infinities and subnormals occur) through each
    /// dequantizer this CPU can run, against the plain loops, bit for bit, over 7 blocks or 3
    /// super-blocks, and an unblocked width with a vector tail.
    static func pathMatchesPlainLoops(_ isa: ForcedISA, _ type: GGMLType) {
        var rng = SeededGenerator(seed: UInt64(type.rawValue) + 17 * UInt64(isa.rawValue))
        let n = type.blockValues == 1 ? 77 : type.blockValues * (type.blockValues == 256 ? 3 : 7)
        let raw = (0 ..< type.byteCount(values: n)!).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var fast = [Float](repeating: .nan, count: n), ref = fast
        raw.withUnsafeBytes { src in
            fast.withUnsafeMutableBufferPointer { f in isa.run { rs_dequantize_row(Int32(type.rawValue), src.baseAddress, f.baseAddress, Int64(n)) } }
            ref.withUnsafeMutableBufferPointer { rs_dequantize_row_ref(Int32(type.rawValue), src.baseAddress, $0.baseAddress, Int64(n)) }
        }
        // Bits, so -0 and +0 differ; NaN payloads are the hardware's to choose (F16 conversion quiets them).
        let bits = { (v: [Float]) in v.map { $0.isNaN ? Float.nan.bitPattern : $0.bitPattern } }
        #expect(bits(fast) == bits(ref), "\(type) on \(isa)")
    }

    @Test("fp16 conversion is exact for every bit pattern", arguments: [0, 1, 0x3C00, 0x7BFF, 0x8001, 0x03FF, 0x0400, 0xFC00, 0xC000])
    func halfToFloat(bits: Int) {
        let f = rs_fp16_to_fp32(UInt16(bits))
        #expect(f == Float(Float16(bitPattern: UInt16(bits))))
    }
}
