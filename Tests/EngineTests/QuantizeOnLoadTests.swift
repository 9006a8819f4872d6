@testable import Engine
import Foundation
import Testing

@Suite("quantize on load")
struct QuantizeOnLoadTests {
    /// Quantizing then dequantizing with the ggml-checked dequantizer loses at most half a
    /// step per value (a little more for the f16 scale); Q4_0's range is [-8d, 7d], so values
    /// at the far end of the largest one's opposite sign lose up to a whole step, as in ggml.
    @Test(arguments: LoadQuantization.allCases)
    func roundTripErrorIsHalfAStep(_ q: LoadQuantization) {
        var rng = SeededGenerator(seed: 5)
        let n = 256
        let x = (0 ..< n).map { i in (Float(rng.next() % 20001) / 10000 - 1) * (i % 64 < 32 ? 1 : 0.01) }
        var blocks = [UInt8](repeating: 0, count: q.type.byteCount(values: n)!)
        var back = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { xp in blocks.withUnsafeMutableBytes { LoadQuantization.quantize(xp.baseAddress!, n: n, into: $0.baseAddress!, as: q) } }
        blocks.withUnsafeBytes { WeightMatrix(type: q.type, data: $0.baseAddress!, rows: 1, cols: n).dequantizeRow(0, into: &back) }
        for b in 0 ..< n / 32 {
            let block = b * 32 ..< (b + 1) * 32
            let amax = block.map { abs(x[$0]) }.max()!
            let step = q == .q8_0 ? amax / 127 : amax / 8
            let worst = block.map { abs(x[$0] - back[$0]) }.max()!
            let bound: Float = q == .q8_0 ? 0.6 : 1.01
            #expect(worst <= bound * step + 1e-7, "block \(b): error \(worst), step \(step)")
        }
    }

    @Test func quantizedQwen3StaysCloseToTheGolden() throws {
        let golden = try HFGolden.load("qwen3-tiny")
        let exact = try LoadedModel(path: try #require(HFGolden.folder("qwen3-tiny")))
        let q8 = try LoadedModel(path: try #require(HFGolden.folder("qwen3-tiny")), quantization: .q8_0)
        #expect(exact.model.info.weightBytes == q8.model.info.weightBytes, "sizes describe the checkpoint")
        for p in golden.prompts {
            let want = try #require(p.logits?.last)
            let got = try SequenceRunner(model: q8.model, kvTokens: 256).extend(p.prompt_ids)
            let spread = want.max()! - want.min()!
            let worst = zip(got.row(0), want).map { abs($0 - $1) }.max()!
            #expect(worst < 0.02 * spread, "q8_0 max logit error \(worst) of a \(spread) range")
            #expect(Sampler.argmax(got.row(0)) == Int32(want.indices.max { want[$0] < want[$1] }!))
        }
    }
}
