/// Tokens routed to each expert of each MoE layer, from `expertTokens` counters
/// (`a` = layer, `b` = expert).
public struct ExpertLoad: Sendable, Equatable {
    /// counts[layer][expert]; layers without MoE counters are empty.
    public var counts: [[Int64]]

    public init(_ events: [Event], layers: Int, experts: Int) {
        counts = Array(repeating: Array(repeating: 0, count: experts), count: layers)
        for e in events where e.kind == .counter && e.metric == .expertTokens {
            let l = Int(e.a), x = Int(e.b)
            guard l >= 0, l < layers, x >= 0, x < experts else { continue }
            counts[l][x] += e.value
        }
    }

    /// Max over mean tokens per expert of a layer: 1 is perfectly balanced, `experts` is one
    /// expert taking everything. nil for a layer that routed nothing.
    public func imbalance(layer: Int) -> Double? {
        let row = counts[layer]
        let total = row.reduce(0, +)
        guard total > 0, !row.isEmpty else { return nil }
        return Double(row.max()!) / (Double(total) / Double(row.count))
    }

    /// The `n` busiest (layer, expert, tokens), busiest first.
    public func hottest(_ n: Int) -> [(layer: Int, expert: Int, tokens: Int64)] {
        var all: [(layer: Int, expert: Int, tokens: Int64)] = []
        for (l, row) in counts.enumerated() {
            for (x, c) in row.enumerated() where c > 0 { all.append((l, x, c)) }
        }
        return Array(all.sorted { $0.tokens != $1.tokens ? $0.tokens > $1.tokens : ($0.layer, $0.expert) < ($1.layer, $1.expert) }.prefix(n))
    }
}
