/// Python string semantics. Python indexes, measures and compares strings by code point,
/// while Swift works in grapheme clusters, so everything here goes through unicode scalars.

/// `str.isspace()` per character (also what `\s` and `str.strip()` use).
func isPythonWhitespace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

extension String {
    var scalars: [Unicode.Scalar] { Array(unicodeScalars) }

    init(scalars: some Sequence<Unicode.Scalar>) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        self = String(view)
    }

    /// Code-point equality (Swift's `==` treats canonically equivalent strings as equal; Python does not).
    func pyEquals(_ other: String) -> Bool {
        unicodeScalars.elementsEqual(other.unicodeScalars)
    }

    var pyLength: Int { unicodeScalars.count }
}

enum PyString {
    static func strip(_ s: String, chars: String?, leading: Bool = true, trailing: Bool = true) -> String {
        let a = s.scalars
        let set = chars.map { Set($0.unicodeScalars) }
        func strippable(_ c: Unicode.Scalar) -> Bool { set?.contains(c) ?? isPythonWhitespace(c) }
        var lo = 0, hi = a.count
        if leading { while lo < hi, strippable(a[lo]) { lo += 1 } }
        if trailing { while hi > lo, strippable(a[hi - 1]) { hi -= 1 } }
        return String(scalars: a[lo..<hi])
    }

    static func find(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar], from start: Int = 0) -> Int? {
        if needle.isEmpty { return start <= haystack.count ? start : nil }
        guard haystack.count >= needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func rfind(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.count - needle.count
        while i >= 0 {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    static func contains(_ s: String, _ sub: String) -> Bool {
        find(s.scalars, sub.scalars) != nil
    }

    static func count(_ s: String, _ sub: String) -> Int {
        let h = s.scalars, n = sub.scalars
        if n.isEmpty { return h.count + 1 }
        var total = 0, i = 0
        while let j = find(h, n, from: i) {
            total += 1
            i = j + n.count
        }
        return total
    }

    static func hasPrefix(_ s: String, _ p: String) -> Bool {
        s.unicodeScalars.starts(with: p.unicodeScalars)
    }

    static func hasSuffix(_ s: String, _ p: String) -> Bool {
        s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
    }

    static func replace(_ s: String, _ old: String, _ new: String, count limit: Int = -1) -> String {
        let h = s.scalars, o = old.scalars, n = new.scalars
        var out: [Unicode.Scalar] = []
        var done = 0
        if o.isEmpty {
            for c in h {
                if limit < 0 || done < limit { out += n; done += 1 }
                out.append(c)
            }
            if limit < 0 || done < limit { out += n }
            return String(scalars: out)
        }
        var i = 0
        while limit < 0 || done < limit, let j = find(h, o, from: i) {
            out += h[i..<j]
            out += n
            i = j + o.count
            done += 1
        }
        out += h[i...]
        return String(scalars: out)
    }

    static func split(_ s: String, separator: String?, maxSplit: Int = -1) throws -> [String] {
        let h = s.scalars
        guard let separator else {
            var parts: [String] = []
            var i = 0
            while true {
                while i < h.count, isPythonWhitespace(h[i]) { i += 1 }
                if i >= h.count { break }
                if maxSplit >= 0 && parts.count >= maxSplit {
                    parts.append(String(scalars: h[i...]))
                    break
                }
                var j = i
                while j < h.count, !isPythonWhitespace(h[j]) { j += 1 }
                parts.append(String(scalars: h[i..<j]))
                i = j
            }
            return parts
        }
        let sep = separator.scalars
        guard !sep.isEmpty else { throw ChatTemplateError.type("empty separator") }
        var parts: [String] = []
        var i = 0
        while maxSplit < 0 || parts.count < maxSplit, let j = find(h, sep, from: i) {
            parts.append(String(scalars: h[i..<j]))
            i = j + sep.count
        }
        parts.append(String(scalars: h[i...]))
        return parts
    }

    static func rsplit(_ s: String, separator: String?, maxSplit: Int = -1) throws -> [String] {
        if maxSplit < 0 { return try split(s, separator: separator) }
        // Splitting the reversed string from the left is rsplit from the right.
        let reversed = String(scalars: s.unicodeScalars.reversed())
        let sep = separator.map { String(scalars: $0.unicodeScalars.reversed()) }
        return try split(reversed, separator: sep, maxSplit: maxSplit)
            .reversed().map { String(scalars: $0.unicodeScalars.reversed()) }
    }

    static func upper(_ s: String) -> String { s.uppercased() }
    static func lower(_ s: String) -> String { s.lowercased() }

    /// `str.title()`: a cased character after an uncased one starts a word.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            out += previousCased ? c.properties.lowercaseMapping : c.properties.titlecaseMapping
            previousCased = c.properties.isCased
        }
        return out
    }

    /// `str.capitalize()`: first character title-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        var out = ""
        for (i, c) in s.unicodeScalars.enumerated() {
            out += i == 0 ? c.properties.titlecaseMapping : c.properties.lowercaseMapping
        }
        return out
    }

    /// jinja2's `title` filter, which splits words on `-`, whitespace and opening brackets only.
    static func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s.unicodeScalars {
            let isSeparator = c == "-" || c == "(" || c == "{" || c == "[" || c == "<" || isPythonWhitespace(c)
            if isSeparator {
                out.unicodeScalars.append(c)
                atWordStart = true
            } else {
                out += atWordStart ? c.properties.uppercaseMapping : c.properties.lowercaseMapping
                atWordStart = false
            }
        }
        return out
    }
}

/// Python slice semantics (`a[start:stop:step]`, negative indices, clamping).
func pySlice<T>(_ items: [T], start: Int?, stop: Int?, step: Int?) throws -> [T] {
    let step = step ?? 1
    guard step != 0 else { throw ChatTemplateError.type("slice step cannot be zero") }
    let n = items.count
    func clamp(_ index: Int?, default value: Int) -> Int {
        guard var i = index else { return value }
        if i < 0 {
            i += n
            if i < 0 { i = step < 0 ? -1 : 0 }
        } else if i >= n {
            i = step < 0 ? n - 1 : n
        }
        return i
    }
    let lo = clamp(start, default: step < 0 ? n - 1 : 0)
    let hi = clamp(stop, default: step < 0 ? -1 : n)
    var result: [T] = []
    var i = lo
    while step > 0 ? i < hi : i > hi {
        result.append(items[i])
        let (next, overflow) = i.addingReportingOverflow(step)
        if overflow { break }
        i = next
    }
    return result
}
