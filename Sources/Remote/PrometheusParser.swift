/// One sample of a Prometheus text exposition: `name{labels} value`.
public struct MetricSample: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
}

/// What one scrape of `/metrics` gave: every sample that parsed, and the lines that did not
/// (a server that sends broken text still shows what could be read, and says how much was not).
public struct MetricsScrape: Sendable, Equatable {
    public var samples: [MetricSample] = []
    /// Declared types by family name (`# TYPE name counter`).
    public var types: [String: String] = [:]
    /// Lines that were neither a comment, blank, nor a sample.
    public var badLines: [Int] = []

    public init() {}

    /// Parses Prometheus text format 0.0.4 (and the OpenMetrics samples servers send with it):
    /// comments, `# TYPE`, labels with escaped quotes, `NaN`/`+Inf`, an optional timestamp.
    public init(text: String) {
        // "\r\n" is one Character in Swift: split on it too, or a CRLF body is one long line.
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty { continue }
            if trimmed.first == "#" {
                let parts = trimmed.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                if parts.count >= 4, parts[1] == "TYPE" { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            if let s = Self.sample(trimmed) { samples.append(s) } else { badLines.append(i + 1) }
        }
    }

    static func sample(_ line: Substring) -> MetricSample? {
        var i = line.startIndex
        func isNameChar(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == ":") }
        while i < line.endIndex, isNameChar(line[i]) { i = line.index(after: i) }
        let name = String(line[line.startIndex ..< i])
        guard !name.isEmpty, !(name.first!.isNumber) else { return nil }
        var labels: [String: String] = [:]
        if i < line.endIndex, line[i] == "{" {
            i = line.index(after: i)
            while true {
                while i < line.endIndex, line[i] == " " { i = line.index(after: i) }
                guard i < line.endIndex else { return nil }
                if line[i] == "}" { i = line.index(after: i); break }
                let ks = i
                while i < line.endIndex, isNameChar(line[i]) { i = line.index(after: i) }
                let key = String(line[ks ..< i])
                guard !key.isEmpty, i < line.endIndex, line[i] == "=" else { return nil }
                i = line.index(after: i)
                guard i < line.endIndex, line[i] == "\"" else { return nil }
                i = line.index(after: i)
                var value = ""
                var closed = false
                while i < line.endIndex {
                    let c = line[i]
                    i = line.index(after: i)
                    if c == "\"" { closed = true; break }
                    if c == "\\", i < line.endIndex {
                        let e = line[i]
                        i = line.index(after: i)
                        value.append(e == "n" ? "\n" : e)
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { return nil }
                labels[key] = value
                // Labels are separated by commas (one may trail before the brace).
                while i < line.endIndex, line[i] == " " { i = line.index(after: i) }
                guard i < line.endIndex else { return nil }
                if line[i] == "," { i = line.index(after: i) } else if line[i] != "}" { return nil }
            }
        }
        let rest = line[i...].split(separator: " ", omittingEmptySubsequences: true)
        guard rest.count == 1 || rest.count == 2, let v = parseValue(rest[0]) else { return nil }
        if rest.count == 2, Int64(rest[1]) == nil, Double(rest[1]) == nil { return nil }
        return MetricSample(name: name, labels: labels, value: v)
    }

    static func parseValue(_ s: Substring) -> Double? {
        switch s {
        case "NaN": return .nan
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        default: return Double(s)
        }
    }

    /// The sum over every label set of `name` (a server with several engines or ranks reports
    /// one series each); nil when no sample has that name.
    public func sum(_ name: String) -> Double? {
        var total: Double?
        for s in samples where s.name == name { total = (total ?? 0) + s.value }
        return total
    }

    /// The first of `names` that has samples, summed.
    public func first(_ names: [String]) -> Double? {
        for n in names { if let v = sum(n) { return v } }
        return nil
    }

    /// A histogram's cumulative buckets (upper bound, count), summed over label sets apart
    /// from `le`, sorted by bound.
    public func histogram(_ name: String) -> Histogram? {
        var byBound: [Double: Double] = [:]
        for s in samples where s.name == name + "_bucket" {
            guard let le = s.labels["le"], let b = Self.parseValue(le[...]) else { continue }
            byBound[b, default: 0] += s.value
        }
        guard !byBound.isEmpty else { return nil }
        return Histogram(buckets: byBound.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                         sum: sum(name + "_sum") ?? 0, count: sum(name + "_count") ?? byBound[.infinity] ?? 0)
    }

    public func histogram(_ names: [String]) -> Histogram? {
        for n in names { if let h = histogram(n) { return h } }
        return nil
    }
}

/// A cumulative Prometheus histogram.
public struct Histogram: Sendable, Equatable {
    public var buckets: [(bound: Double, count: Double)]
    public var sum: Double
    public var count: Double

    public init(buckets: [(bound: Double, count: Double)], sum: Double, count: Double) {
        self.buckets = buckets
        self.sum = sum
        self.count = count
    }

    public static func == (a: Histogram, b: Histogram) -> Bool {
        a.sum == b.sum && a.count == b.count && a.buckets.map(\.bound) == b.buckets.map(\.bound)
            && a.buckets.map(\.count) == b.buckets.map(\.count)
    }

    /// What was observed between `earlier` and this one (same buckets).
    public func minus(_ earlier: Histogram?) -> Histogram {
        guard let e = earlier, e.buckets.map(\.bound) == buckets.map(\.bound) else { return self }
        return Histogram(buckets: zip(buckets, e.buckets).map { ($0.bound, max(0, $0.count - $1.count)) },
                         sum: sum - e.sum, count: max(0, count - e.count))
    }

    /// The quantile `q` (0...1), interpolated linearly within its bucket as PromQL's
    /// `histogram_quantile` does; nil with no observations.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0, let total = buckets.last?.count, total > 0 else { return nil }
        let rank = q * total
        var lowerBound = 0.0, lowerCount = 0.0
        for (bound, c) in buckets {
            if c >= rank {
                if bound.isInfinite { return lowerBound }
                let inBucket = c - lowerCount
                return inBucket > 0 ? lowerBound + (bound - lowerBound) * (rank - lowerCount) / inBucket : bound
            }
            lowerBound = bound
            lowerCount = c
        }
        return lowerBound
    }

    public var mean: Double? { count > 0 ? sum / count : nil }
}
