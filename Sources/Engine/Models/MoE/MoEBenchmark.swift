import Foundation
import Kernels

/// One MoE layer with random bf16 weights, for timing the backends against each other and
/// against a naive per-token loop (`ringside microbench --moe`).
public final class MoEBenchmark: @unchecked Sendable {
    // Used from one thread at a time.
    let layer: MoELayer
    private let storage: UnsafeMutableRawPointer
    /// Quantized copies of the experts, when asked for.
    private var quantized: [FloatBuffer] = []
    private let bytes: Int
    public let hidden: Int
    /// The naive loop's buffers, kept across calls so that it allocates nothing while timed.
    /// As locals, swiftc 6.3.1 promoted one to the stack and still released it through the
    /// runtime (seen in gdb), a crash in `swift_deallocClassInstance` once the other paths had
    /// run a couple of dozen times first.
    private let naiveY: FloatBuffer, naiveG = FloatBuffer(count: 0), naiveU = FloatBuffer(count: 0)

    /// Ling-mini-2.0's routed experts by default: hidden 2048, 256 experts of 512, top-8 in 4 of
    /// 8 groups, routed scaling 2.5 (MODELS.md 4.1).
    /// `quantize` turns the experts into Q8_0 or Q4_0 as `--quantize` does on load (how a 16 B
    /// checkpoint fits this machine).
    public init(hidden: Int = 2048, experts: Int = 256, inter: Int = 512, topK: Int = 8, groups: Int = 8, topkGroups: Int = 4,
                seed: UInt64 = 1, quantize: LoadQuantization? = nil) {
        self.hidden = hidden
        naiveY = FloatBuffer(count: hidden)
        let perMatrix = inter * hidden * 2
        bytes = experts * 3 * perMatrix + experts * hidden * 4
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        var rng = SeededGenerator(seed: seed)
        // Uniform in about +-0.03, as bf16 (the top half of an fp32).
        let halves = storage.bindMemory(to: UInt16.self, capacity: experts * 3 * perMatrix / 2)
        for i in 0 ..< experts * 3 * perMatrix / 2 {
            let x = (Float(rng.next() % 65536) / 32768 - 1) * 0.03
            halves[i] = UInt16(truncatingIfNeeded: x.bitPattern >> 16)
        }
        let gate = (storage + experts * 3 * perMatrix).bindMemory(to: Float.self, capacity: experts * hidden)
        for i in 0 ..< experts * hidden { gate[i] = (Float(rng.next() % 65536) / 32768 - 1) * 0.05 }
        var list: [MLP] = []
        for e in 0 ..< experts {
            let base = storage + e * 3 * perMatrix
            list.append(MLP(gate: WeightMatrix(type: .bf16, data: base, rows: inter, cols: hidden),
                               up: WeightMatrix(type: .bf16, data: base + perMatrix, rows: inter, cols: hidden),
                               down: WeightMatrix(type: .bf16, data: base + 2 * perMatrix, rows: hidden, cols: inter)))
        }
        if let q = quantize {
            var keep: [FloatBuffer] = []
            list = list.map { e in
                MLP(gate: LoadQuantization.quantize(e.gate, as: q) { keep.append($0) },
                       up: LoadQuantization.quantize(e.up, as: q) { keep.append($0) },
                       down: LoadQuantization.quantize(e.down, as: q) { keep.append($0) })
            }
            quantized = keep
        }
        let router = Router(kind: .sigmoidGrouped(groups: groups, topkGroups: topkGroups, normalize: true, scaling: 2.5),
                            experts: experts, topK: topK, bias: nil)
        layer = MoELayer(router: router, routerWeight: WeightMatrix(type: .f32, data: gate, rows: experts, cols: hidden),
                         experts: list, shared: nil, hidden: hidden)
    }

    deinit { storage.deallocate() }

    public enum Path: String, CaseIterable, Sendable { case grouped, dense, naive }

    /// Runs the layer over `x` (`tokens` rows) into `out`; returns seconds.
    public func time(_ path: Path, x: UnsafePointer<Float>, tokens: Int, out: UnsafeMutablePointer<Float>) -> Double {
        out.update(repeating: 0, count: tokens * hidden)
        let t0 = DispatchTime.now().uptimeNanoseconds
        switch path {
        case .grouped: layer.forward(x, n: tokens, into: out, backend: .grouped)
        case .dense: layer.forward(x, n: tokens, into: out, backend: .dense)
        case .naive: naive(x, tokens: tokens, into: out)
        }
        return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }

    /// Token by token, expert by expert: what a straightforward port computes.
    private func naive(_ x: UnsafePointer<Float>, tokens n: Int, into out: UnsafeMutablePointer<Float>) {
        layer.route(x, n: n)
        let k = layer.router.topK, d = hidden
        let y = naiveY, g = naiveG, u = naiveU
        for t in 0 ..< n {
            for j in 0 ..< k {
                layer.experts[Int(layer.ids[t * k + j])].forward(x + t * d, ldx: d, n: 1, into: y.pointer, accumulate: false, g: g, u: u)
                let w = layer.weights.pointer[t * k + j]
                for i in 0 ..< d { out[t * d + i] += w * y.pointer[i] }
            }
        }
    }

    /// Max imbalance (max / mean tokens per expert) of the routing counted so far.
    public var imbalance: Double {
        let c = layer.counts, total = c.reduce(0, +)
        return total > 0 ? Double(c.max()!) / (Double(total) / Double(c.count)) : 0
    }
}
