import Foundation
import Kernels
import Testing

/// SiLU, GELU-tanh and the softmax exponential on this CPU's path (AVX-512 or AVX2 polynomial
/// exp, else libm) against double precision, over lengths that leave a scalar tail and inputs
/// from far below exp's range to near its top.
@Suite("elementwise kernels")
struct ElementwiseKernelTests {
    static func inputs(_ n: Int) -> [Float] {
        let edges: [Float] = [-1e4, -120, -88, -87.5, -30, -1e-7, 0, 1e-7, 3, 30, 80, 88]
        return (0 ..< n).map { i in i < edges.count ? edges[i] : Float(i % 61) * 0.9 - 27 + Float(i % 7) * 0.013 }
    }

    static func close(_ got: Float, _ want: Double) -> Bool {
        abs(Double(got) - want) <= 2e-6 * abs(want) + 1e-30
    }

    @Test("silu(g) * u", arguments: [1, 7, 8, 16, 37, 200])
    func silu(n: Int) {
        let g = Self.inputs(n), u = (0 ..< n).map { Float($0 % 5) - 1.5 }
        var out = [Float](repeating: .nan, count: n)
        rs_silu_mul(g, u, &out, Int64(n))
        for i in 0 ..< n {
            let x = Double(g[i]), want = x / (1 + Foundation.exp(-x)) * Double(u[i])
            #expect(Self.close(out[i], want), "silu at \(g[i]): \(out[i]) vs \(want)")
        }
    }

    @Test("gelu_tanh(g) * u", arguments: [1, 9, 37, 200])
    func gelu(n: Int) {
        let g = Self.inputs(n).map { max($0, -40) }, u = (0 ..< n).map { Float($0 % 5) - 1.5 }
        var out = [Float](repeating: .nan, count: n)
        rs_gelu_tanh_mul(g, u, &out, Int64(n))
        for i in 0 ..< n {
            let x = Double(g[i])
            let want = 0.5 * x * (1 + Foundation.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) * Double(u[i])
            // tanh through exp: 1 - 2/(e^2z + 1) loses relative precision as the result nears 0.
            #expect(abs(Double(out[i]) - want) <= 4e-6 * (abs(want) + abs(x * Double(u[i]))) + 1e-30, "gelu at \(g[i]): \(out[i]) vs \(want)")
        }
    }

    @Test("exp(x - max) in place, and its sum", arguments: [1, 8, 13, 37, 300])
    func expSubSum(n: Int) {
        var x = Self.inputs(n)
        let max = x.max()!
        let want = x.map { Foundation.exp(Double($0) - Double(max)) }
        let sum = rs_exp_sub_sum(&x, Int64(n), max)
        for i in 0 ..< n { #expect(Self.close(x[i], want[i]), "exp(\(Double(x[i]))) vs \(want[i])") }
        #expect(abs(Double(sum) - want.reduce(0, +)) <= 1e-5 * want.reduce(0, +))
    }
}
