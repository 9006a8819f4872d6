/// One backtracking point: resume at `pc` with `pos`. A greedy single-class loop pushes one
/// frame for all its give-backs: `floor >= 0` means "retry with one character fewer, down to
/// `floor`".
struct RegexFrame {
    var pc: Int32
    var pos: Int32
    var floor: Int32
}

/// A compiled regex: a backtracking matcher with ECMAScript's (and PCRE's, Oniguruma's)
/// leftmost-first semantics over an array of scalars.
///
/// Instructions live in flat arrays; lookahead and atomic bodies are separate programs run on
/// the same backtracking stack above the caller's frames, so matching allocates nothing once
/// the stack has grown.
struct RegexProgram: Sendable {
    enum Inst: Sendable {
        case char(UInt32)
        case set(Int32)
        /// Prefer `a`, backtrack to `b`.
        case split(Int32, Int32)
        case jump(Int32)
        /// A class repeated `min...max` times, greedily, with give-back on backtracking.
        case setLoop(Int32, min: Int32, max: Int32)
        case look(Int32, negative: Bool)
        case atomic(Int32)
        case start
        case end
        case wordBoundary(negated: Bool)
        case match
    }

    let pattern: String
    private var programs: [[Inst]] = []
    private var sets: [RegexCharSet] = []
    /// Four words per set: membership of scalars below 256.
    private var latin: [UInt64] = []
    private let unicodeWords: Bool
    /// Sets one of which the first scalar of any match must be in; nil when a match may start
    /// with anything or be empty. Lets a search skip hopeless positions without running.
    private var firstSets: (sets: [Int32], chars: [UInt32])? = nil
    private var firstLatin: [UInt64] = []

    init(pattern: String, flavor: RegexFlavor) throws(TokenizerError) {
        self.pattern = pattern
        unicodeWords = flavor == .unicode
        let tree = try RegexParser.parse(pattern, flavor: flavor)
        _ = compile(tree)
        for s in sets {
            for w in 0..<4 {
                var bits: UInt64 = 0
                for b in 0..<64 where s.contains(UInt32(w * 64 + b)) { bits |= 1 << UInt64(b) }
                latin.append(bits)
            }
        }
        firstSets = startSets()
        if let first = firstSets {
            firstLatin = [0, 0, 0, 0]
            for set in first.sets { for w in 0..<4 { firstLatin[w] |= latin[Int(set) * 4 + w] } }
            for c in first.chars where c < 256 { firstLatin[Int(c >> 6)] |= 1 << UInt64(c & 63) }
        }
    }

    /// The sets and scalars the main program's first consuming instruction may test,
    /// following splits and jumps; nil if something else (an assertion, an optional loop, the
    /// end) may come first.
    private func startSets() -> (sets: [Int32], chars: [UInt32])? {
        let code = programs[0]
        var seen = Set<Int>(), stack = [0], sets: [Int32] = [], chars: [UInt32] = []
        while let pc = stack.popLast() {
            guard seen.insert(pc).inserted else { continue }
            switch code[pc] {
            case .set(let s): sets.append(s)
            case .char(let c): chars.append(c)
            case .setLoop(let s, let min, _):
                guard min >= 1 else { return nil }
                sets.append(s)
            case .split(let a, let b): stack.append(Int(b)); stack.append(Int(a))
            case .jump(let a): stack.append(Int(a))
            default: return nil
            }
        }
        return (sets, chars)
    }

    @inline(__always)
    private func mayStart(_ c: UInt32) -> Bool {
        guard let first = firstSets else { return true }
        if c < 256 { return firstLatin[Int(c >> 6)] >> UInt64(c & 63) & 1 != 0 }
        for s in first.sets where sets[Int(s)].contains(c) { return true }
        return first.chars.contains(c)
    }

    // MARK: Compiling

    private mutating func compile(_ node: RegexNode) -> Int32 {
        let index = programs.count
        programs.append([])
        var code: [Inst] = []
        emit(node, &code)
        code.append(.match)
        programs[index] = code
        return Int32(index)
    }

    private mutating func addSet(_ s: RegexCharSet) -> Int32 {
        var s = s
        s.finish()
        sets.append(s)
        return Int32(sets.count - 1)
    }

    private mutating func literalSet(_ c: UInt32) -> Int32 {
        var s = RegexCharSet()
        s.add(c, c)
        return addSet(s.caseless(true))
    }

    private mutating func emit(_ node: RegexNode, _ code: inout [Inst]) {
        switch node {
        case .empty:
            break
        case .literal(let c, let caseless):
            code.append(caseless ? .set(literalSet(c)) : .char(c))
        case .set(let s):
            code.append(.set(addSet(s)))
        case .concat(let parts):
            for part in parts { emit(part, &code) }
        case .alternation(let branches):
            var exits: [Int] = []
            for (k, branch) in branches.enumerated() {
                if k < branches.count - 1 {
                    let split = code.count
                    code.append(.split(0, 0))
                    emit(branch, &code)
                    exits.append(code.count)
                    code.append(.jump(0))
                    code[split] = .split(Int32(split + 1), Int32(code.count))
                } else {
                    emit(branch, &code)
                }
            }
            for e in exits { code[e] = .jump(Int32(code.count)) }
        case .repetition(let body, let min, let max, let greedy, let possessive):
            if possessive {
                code.append(.atomic(compile(.repetition(body, min: min, max: max, greedy: greedy, possessive: false))))
                return
            }
            if greedy, let set = singleSet(body) {
                code.append(.setLoop(set, min: Int32(min), max: Int32(clamping: max ?? Int(Int32.max))))
                return
            }
            for _ in 0..<min { emit(body, &code) }
            if let max {
                var exits: [Int] = []
                for _ in min..<max {
                    exits.append(code.count)
                    code.append(.split(0, 0))
                    emit(body, &code)
                }
                for e in exits {
                    code[e] = greedy ? .split(Int32(e + 1), Int32(code.count)) : .split(Int32(code.count), Int32(e + 1))
                }
            } else {
                let loop = code.count
                code.append(.split(0, 0))
                emit(body, &code)
                code.append(.jump(Int32(loop)))
                code[loop] = greedy ? .split(Int32(loop + 1), Int32(code.count)) : .split(Int32(code.count), Int32(loop + 1))
            }
        case .lookahead(let body, let negative):
            code.append(.look(compile(body), negative: negative))
        case .atomic(let body):
            code.append(.atomic(compile(body)))
        case .start:
            code.append(.start)
        case .end:
            code.append(.end)
        case .wordBoundary(let negated):
            code.append(.wordBoundary(negated: negated))
        }
    }

    /// The class a single-character node tests, so its loop can run as one instruction.
    private mutating func singleSet(_ node: RegexNode) -> Int32? {
        switch node {
        case .set(let s): return addSet(s)
        case .literal(let c, let caseless):
            if caseless { return literalSet(c) }
            var s = RegexCharSet()
            s.add(c, c)
            return addSet(s)
        default: return nil
        }
    }

    // MARK: Matching

    @inline(__always)
    private func contains(_ set: Int, _ c: UInt32, _ latin: UnsafeBufferPointer<UInt64>) -> Bool {
        if c < 256 { return latin[set &* 4 &+ Int(c >> 6)] >> UInt64(c & 63) & 1 != 0 }
        return sets[set].contains(c)
    }

    private func isWord(_ c: UInt32) -> Bool {
        let bits = RegexProperty.of(c)
        return unicodeWords ? bits & RegexProperty.word != 0 : bits & RegexProperty.asciiWord != 0
    }

    /// End of the first match starting exactly at `start` within `text[lo..<hi]`, or -1.
    /// `notNull` rejects an empty match (ECMAScript's retry after an empty match).
    func match(_ text: UnsafeBufferPointer<UInt32>, lo: Int, hi: Int, at start: Int, notNull: Bool,
               stack: inout [RegexFrame]) -> Int {
        latin.withUnsafeBufferPointer { latin in
            run(0, text, lo, hi, start, notNull, &stack, latin)
        }
    }

    private func run(_ index: Int32, _ text: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int, _ start: Int,
                     _ notNull: Bool, _ stack: inout [RegexFrame], _ latin: UnsafeBufferPointer<UInt64>) -> Int {
        let base = stack.count
        return programs[Int(index)].withUnsafeBufferPointer { code -> Int in
            var pc = 0
            var pos = start
            while true {
                var ok = true
                switch code[pc] {
                case .char(let c):
                    if pos < hi && text[pos] == c { pos += 1; pc += 1 } else { ok = false }
                case .set(let s):
                    if pos < hi && contains(Int(s), text[pos], latin) { pos += 1; pc += 1 } else { ok = false }
                case .split(let a, let b):
                    // A branch whose first scalar cannot match is skipped without a frame.
                    var viable = true
                    switch code[Int(a)] {
                    case .char(let c): viable = pos < hi && text[pos] == c
                    case .set(let s): viable = pos < hi && contains(Int(s), text[pos], latin)
                    case .setLoop(let s, let min, _) where min > 0: viable = pos < hi && contains(Int(s), text[pos], latin)
                    default: break
                    }
                    if viable {
                        stack.append(RegexFrame(pc: b, pos: Int32(pos), floor: -1))
                        pc = Int(a)
                    } else {
                        pc = Int(b)
                    }
                case .jump(let a):
                    pc = Int(a)
                case .setLoop(let s, let min, let max):
                    var n = 0
                    let limit = Swift.min(Int(max), hi - pos)
                    while n < limit && contains(Int(s), text[pos + n], latin) { n += 1 }
                    if n < Int(min) {
                        ok = false
                    } else {
                        if n > Int(min) { stack.append(RegexFrame(pc: Int32(pc + 1), pos: Int32(pos + n), floor: Int32(pos + Int(min)))) }
                        pos += n
                        pc += 1
                    }
                case .look(let sub, let negative):
                    let found = run(sub, text, lo, hi, pos, false, &stack, latin) >= 0
                    if found != negative { pc += 1 } else { ok = false }
                case .atomic(let sub):
                    let end = run(sub, text, lo, hi, pos, false, &stack, latin)
                    if end >= 0 { pos = end; pc += 1 } else { ok = false }
                case .start:
                    if pos == lo { pc += 1 } else { ok = false }
                case .end:
                    if pos == hi { pc += 1 } else { ok = false }
                case .wordBoundary(let negated):
                    let before = pos > lo && isWord(text[pos - 1])
                    let after = pos < hi && isWord(text[pos])
                    if (before != after) != negated { pc += 1 } else { ok = false }
                case .match:
                    if notNull && pos == start {
                        ok = false
                    } else {
                        stack.removeSubrange(base...)
                        return pos
                    }
                }
                if ok { continue }
                guard stack.count > base else { return -1 }
                let frame = stack.removeLast()
                pc = Int(frame.pc)
                pos = Int(frame.pos)
                if frame.floor >= 0 {
                    // Give back one more character of a greedy loop.
                    pos -= 1
                    if pos > Int(frame.floor) { stack.append(RegexFrame(pc: frame.pc, pos: Int32(pos), floor: frame.floor)) }
                }
            }
        }
    }

    /// Splits `text[lo..<hi]` into matches and the gaps between them, as llama.cpp's
    /// `unicode_regex_split_stl` walks `std::regex_iterator`: after an empty match the next
    /// search first tries a non-empty match at the same place, then moves on one scalar.
    /// Empty matches only mark split points.
    func split(_ text: UnsafeBufferPointer<UInt32>, _ lo: Int, _ hi: Int, stack: inout [RegexFrame],
               into out: inout [PreTokenSpan]) {
        var gapStart = lo
        var from = lo
        var afterEmpty = false
        while true {
            var found = -1, end = -1
            if afterEmpty {
                if from >= hi { break }
                let e = match(text, lo: lo, hi: hi, at: from, notNull: true, stack: &stack)
                if e >= 0 { found = from; end = e } else { from += 1 }
            }
            if found < 0 {
                var p = from
                let last = firstSets == nil ? hi : hi - 1
                while p <= last {
                    if firstSets != nil && !mayStart(text[p]) { p += 1; continue }
                    let e = match(text, lo: lo, hi: hi, at: p, notNull: false, stack: &stack)
                    if e >= 0 { found = p; end = e; break }
                    p += 1
                }
            }
            if found < 0 { break }
            if found > gapStart { out.append(PreTokenSpan(gapStart, found, false)) }
            if end > found { out.append(PreTokenSpan(found, end, true)) }
            gapStart = Swift.max(gapStart, end)
            afterEmpty = end == found
            from = end
        }
        if gapStart < hi { out.append(PreTokenSpan(gapStart, hi, false)) }
    }
}
