/// A routed Mixture-of-Experts feed-forward layer with optional shared experts.
final class MoELayer: @unchecked Sendable {
    // Workspace buffers and counts are used only by the thread running the forward pass.
    let router: Router
    let routerWeight: WeightMatrix
    let experts: [MLP]
    let shared: MLP?
    let hidden: Int
    /// Tokens routed to each expert since the last `drainCounts`.
    private(set) var counts: [Int64]

    let logits = FloatBuffer(count: 0), weights = FloatBuffer(count: 0)
    private let xs = FloatBuffer(count: 0), g = FloatBuffer(count: 0), u = FloatBuffer(count: 0), ys = FloatBuffer(count: 0)
    var ids: [Int32] = [], offsets: [Int] = [], order: [Int32] = [], fill: [Int] = []
    /// The experts' matrices as the grouped kernel takes them; nil when it cannot run them.
    private let table: ExpertTable?
    private var active: [Int32], activeFirst: [Int64], activeCount: [Int64]

    init(router: Router, routerWeight: WeightMatrix, experts: [MLP], shared: MLP?, hidden: Int) {
        self.router = router
        self.routerWeight = routerWeight
        self.experts = experts
        self.shared = shared
        self.hidden = hidden
        counts = Array(repeating: 0, count: experts.count)
        table = ExpertTable(experts)
        active = Array(repeating: 0, count: experts.count)
        activeFirst = Array(repeating: 0, count: experts.count)
        activeCount = Array(repeating: 0, count: experts.count)
    }

    func resetCounts() { for i in counts.indices { counts[i] = 0 } }

    /// out[t] += MoE(h[t]) for `n` tokens of `hidden` floats.
    func forward(_ h: UnsafePointer<Float>, n: Int, into out: UnsafeMutablePointer<Float>, backend: MoEBackend) {
        route(h, n: n)
        switch backend {
        case .grouped: grouped(h, n: n, into: out)
        case .dense: dense(h, n: n, into: out)
        }
        if let s = shared { s.forward(h, ldx: hidden, n: n, into: out, accumulate: true, g: g, u: u) }
    }

    /// Router logits and each token's top-k (expert, weight) into `ids` and `weights`.
    func route(_ h: UnsafePointer<Float>, n: Int) {
        let e = experts.count, k = router.topK, d = hidden
        logits.reserve(n * e)
        weights.reserve(n * k)
        if ids.count < n * k { ids = Array(repeating: 0, count: n * k) }
        matmul(h, ldx: d, tokens: n, cols: d, routerWeight.job(into: logits.pointer, ldy: e))
        ids.withUnsafeMutableBufferPointer { idp in
            for t in 0 ..< n {
                router.route(logits: logits.pointer + t * e, ids: idp.baseAddress! + t * k, weights: weights.pointer + t * k)
            }
        }
        for i in 0 ..< n * k { counts[Int(ids[i])] += 1 }
    }

    /// Pairs sorted by expert (a counting sort), each expert's rows gathered into one block,
    /// one matrix product per expert, then a weighted scatter back to the tokens.
    private func grouped(_ h: UnsafePointer<Float>, n: Int, into out: UnsafeMutablePointer<Float>) {
        let e = experts.count, k = router.topK, d = hidden, pairs = n * k
        if offsets.count < e + 1 { offsets = Array(repeating: 0, count: e + 1); fill = Array(repeating: 0, count: e) }
        if order.count < pairs { order = Array(repeating: 0, count: pairs) }
        for i in 0 ... e { offsets[i] = 0 }
        for p in 0 ..< pairs { offsets[Int(ids[p]) + 1] += 1 }
        for i in 0 ..< e { offsets[i + 1] += offsets[i]; fill[i] = offsets[i] }
        for p in 0 ..< pairs {
            let x = Int(ids[p])
            order[fill[x]] = Int32(p)
            fill[x] += 1
        }
        xs.reserve(pairs * d)
        ys.reserve(pairs * d)
        for (row, p) in order[0 ..< pairs].enumerated() {
            (xs.pointer + row * d).update(from: h + (Int(p) / k) * d, count: d)
        }
        if let table {
            var groups = 0
            for x in 0 ..< e where offsets[x + 1] > offsets[x] {
                active[groups] = Int32(x)
                activeFirst[groups] = Int64(offsets[x])
                activeCount[groups] = Int64(offsets[x + 1] - offsets[x])
                groups += 1
            }
            table.run(xs.pointer, pairs: pairs, hidden: d, experts: active, first: activeFirst, count: activeCount,
                      groups: groups, into: ys.pointer, g: g, u: u)
        } else {
            for x in 0 ..< e where offsets[x + 1] > offsets[x] {
                let first = offsets[x], rows = offsets[x + 1] - first
                experts[x].forward(xs.pointer + first * d, ldx: d, n: rows, into: ys.pointer + first * d, accumulate: false, g: g, u: u)
            }
        }
        for (row, p) in order[0 ..< pairs].enumerated() {
            let w = weights.pointer[Int(p)]
            let src = ys.pointer + row * d, dst = out + (Int(p) / k) * d
            for i in 0 ..< d { dst[i] += w * src[i] }
        }
    }

    /// Every expert over all tokens; each token keeps the outputs of the experts it chose.
    private func dense(_ h: UnsafePointer<Float>, n: Int, into out: UnsafeMutablePointer<Float>) {
        let k = router.topK, d = hidden
        ys.reserve(n * d)
        for (x, expert) in experts.enumerated() {
            expert.forward(h, ldx: d, n: n, into: ys.pointer, accumulate: false, g: g, u: u)
            for t in 0 ..< n {
                for j in 0 ..< k where ids[t * k + j] == Int32(x) {
                    let w = weights.pointer[t * k + j]
                    let src = ys.pointer + t * d, dst = out + t * d
                    for i in 0 ..< d { dst[i] += w * src[i] }
                }
            }
        }
    }
}
