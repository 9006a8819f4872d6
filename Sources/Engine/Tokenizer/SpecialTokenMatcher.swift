/// Finds special tokens written in input text (llama.cpp `tokenizer_st_partition`).
///
/// llama.cpp takes special tokens longest first and, for each, splits every remaining text
/// fragment at its left-to-right occurrences. That equals: collect all occurrences, visit
/// them by (longer first, lower id first, leftmost first) and keep each that does not
/// overlap one already kept. A byte trie finds the occurrences in one pass.
struct SpecialTokenMatcher: Sendable {
    /// A piece of the input: text still to tokenize, or a token already decided.
    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Trie over token bytes: children of node `n` are a linked list from `firstChild[n]`.
    private var firstChild: [Int32] = [-1]
    private var nextSibling: [Int32] = [-1]
    private var label: [UInt8] = [0]
    /// Token id ending at each node, -1 if none.
    private var terminal: [Int32] = [-1]
    /// Root children by byte, for a fast "can anything start here" test.
    private var rootChild = [Int32](repeating: -1, count: 256)
    /// CONTROL and UNKNOWN tokens match only with `parseSpecial`.
    private var needsParseSpecial: [Bool] = []
    private var lengths: [Int32] = []

    var isEmpty: Bool { firstChild.count == 1 }

    init(texts: [String], types: [TokenType]) {
        needsParseSpecial = types.map { $0 == .control || $0 == .unknown }
        lengths = texts.map { Int32($0.utf8.count) }
        for id in texts.indices {
            switch types[id] {
            case .control, .unknown, .userDefined: insert(Array(texts[id].utf8), Int32(id))
            default: break
            }
        }
    }

    private mutating func insert(_ bytes: [UInt8], _ id: Int32) {
        guard !bytes.isEmpty else { return }
        var node: Int32 = 0
        for (depth, byte) in bytes.enumerated() {
            var child = depth == 0 ? rootChild[Int(byte)] : firstChild[Int(node)]
            if depth > 0 {
                while child >= 0 && label[Int(child)] != byte { child = nextSibling[Int(child)] }
            }
            if child < 0 {
                child = Int32(label.count)
                label.append(byte)
                terminal.append(-1)
                firstChild.append(-1)
                nextSibling.append(firstChild[Int(node)])
                firstChild[Int(node)] = child
                if depth == 0 { rootChild[Int(byte)] = child }
            }
            node = child
        }
        // Keep the lowest id for duplicate texts; llama.cpp's order is unspecified there.
        if terminal[Int(node)] < 0 { terminal[Int(node)] = id }
    }

    /// Splits `utf8` into special tokens and the text between them.
    func partition(_ utf8: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        let n = utf8.count
        guard n > 0 else { return [] }
        guard !isEmpty else { return [.text(0..<n)] }
        var found: [(start: Int, id: Int32)] = []
        for start in 0..<n {
            var node = rootChild[Int(utf8[start])]
            var position = start
            while node >= 0 {
                let id = terminal[Int(node)]
                if id >= 0 && (parseSpecial || !needsParseSpecial[Int(id)]) { found.append((start, id)) }
                position += 1
                guard position < n else { break }
                let byte = utf8[position]
                node = firstChild[Int(node)]
                while node >= 0 && label[Int(node)] != byte { node = nextSibling[Int(node)] }
            }
        }
        guard !found.isEmpty else { return [.text(0..<n)] }
        found.sort { a, b in
            let la = lengths[Int(a.id)], lb = lengths[Int(b.id)]
            if la != lb { return la > lb }
            if a.id != b.id { return a.id < b.id }
            return a.start < b.start
        }
        var taken = [Bool](repeating: false, count: n)
        var kept: [(start: Int, id: Int32)] = []
        for match in found {
            let end = match.start + Int(lengths[Int(match.id)])
            if taken[match.start..<end].contains(true) { continue }
            for i in match.start..<end { taken[i] = true }
            kept.append(match)
        }
        kept.sort { $0.start < $1.start }
        var fragments: [Fragment] = []
        var cursor = 0
        for match in kept {
            if cursor < match.start { fragments.append(.text(cursor..<match.start)) }
            fragments.append(.token(match.id))
            cursor = match.start + Int(lengths[Int(match.id)])
        }
        if cursor < n { fragments.append(.text(cursor..<n)) }
        return fragments
    }
}
