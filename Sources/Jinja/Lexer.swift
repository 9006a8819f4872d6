/// One lexical token. Template text and tag delimiters share the stream with expression tokens,
/// exactly like jinja2's token stream, so the parser can be a direct port.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case blockBegin, blockEnd, variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
        case eof
    }

    let kind: Kind
    let line: Int
    let column: Int
}

/// Tokenizer configured the way Hugging Face configures jinja2:
/// `trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`.
///
/// Whitespace handling is the part that decides byte-equality of rendered prompts,
/// so it follows jinja2's lexer rule by rule (see the comments at each step).
struct Lexer {
    private let src: [Unicode.Scalar]
    private var pos = 0
    private var tokens: [Token] = []
    private var lineStarts: [Int] = [0]
    /// jinja2's `line_starting`: did the previous match end with a newline?
    private var lineStarting = true

    init(_ source: String) {
        // jinja2 normalises \r\n and \r to \n and drops one trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(source.unicodeScalars.count)
        var iterator = source.unicodeScalars.makeIterator()
        var pending = iterator.next()
        while let s = pending {
            pending = iterator.next()
            if s == "\r" {
                scalars.append("\n")
                if pending == "\n" { pending = iterator.next() }
            } else {
                scalars.append(s)
            }
        }
        if scalars.last == "\n" { scalars.removeLast() }
        src = scalars
        for (i, s) in src.enumerated() where s == "\n" { lineStarts.append(i + 1) }
    }

    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = Lexer(source)
        try lexer.run()
        return lexer.tokens
    }

    // MARK: - Positions and errors

    private func location(_ offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - lineStarts[lo] + 1)
    }

    private func syntaxError(_ message: String, at offset: Int) -> ChatTemplateError {
        let (line, column) = location(offset)
        return .syntax(line: line, column: column, message: message)
    }

    private mutating func emit(_ kind: Token.Kind, at offset: Int) {
        let (line, column) = location(offset)
        tokens.append(Token(kind: kind, line: line, column: column))
    }

    private func at(_ offset: Int) -> Unicode.Scalar? {
        offset < src.count ? src[offset] : nil
    }

    private func matches(_ literal: String, at offset: Int) -> Bool {
        var i = offset
        for s in literal.unicodeScalars {
            guard i < src.count, src[i] == s else { return false }
            i += 1
        }
        return true
    }

    private func skipWhitespace(from offset: Int) -> Int {
        var i = offset
        while i < src.count, isPythonWhitespace(src[i]) { i += 1 }
        return i
    }

    // MARK: - Root state

    private enum TagKind { case block, variable, comment }

    private mutating func run() throws {
        while pos < src.count {
            guard let (tagStart, kind) = nextTag(from: pos) else {
                emitText(pos, src.count, strip: nil, kind: nil)
                pos = src.count
                break
            }
            let signScalar = at(tagStart + 2)
            let sign: Unicode.Scalar? = (signScalar == "-" || signScalar == "+") ? signScalar : nil
            if kind == .block, let rawEnd = rawBeginEnd(at: tagStart) {
                emitText(pos, tagStart, strip: sign, kind: kind)
                try lexRaw(contentStart: rawEnd.end, beginEndsWithNewline: rawEnd.endsWithNewline)
                continue
            }
            emitText(pos, tagStart, strip: sign, kind: kind)
            pos = tagStart + 2 + (sign == nil ? 0 : 1)
            switch kind {
            case .comment: try lexComment(openedAt: tagStart)
            case .block:
                emit(.blockBegin, at: tagStart)
                try lexTag(block: true, openedAt: tagStart)
            case .variable:
                emit(.variableBegin, at: tagStart)
                try lexTag(block: false, openedAt: tagStart)
            }
        }
        emit(.eof, at: src.count)
    }

    private func nextTag(from start: Int) -> (Int, TagKind)? {
        var i = start
        while i + 1 < src.count {
            if src[i] == "{" {
                switch src[i + 1] {
                case "%": return (i, .block)
                case "{": return (i, .variable)
                case "#": return (i, .comment)
                default: break
                }
            }
            i += 1
        }
        return nil
    }

    /// Emits template text before a tag, applying `{%-` stripping and `lstrip_blocks`.
    private mutating func emitText(_ start: Int, _ end: Int, strip sign: Unicode.Scalar?, kind: TagKind?) {
        var end = end
        if kind != nil {
            if sign == "-" {
                // `{%-` strips all whitespace (newlines included) back to the previous text.
                while end > start, isPythonWhitespace(src[end - 1]) { end -= 1 }
            } else if sign != "+", kind != .variable {
                // lstrip_blocks: drop spaces/tabs between the line start and a block or comment tag,
                // but only when nothing else precedes the tag on that line.
                var lineStart = end
                while lineStart > start, src[lineStart - 1] != "\n" { lineStart -= 1 }
                let afterNewline = lineStart > start
                if (afterNewline || lineStarting) && lineStart < end
                    && src[lineStart..<end].allSatisfy(isPythonWhitespace) {
                    end = lineStart
                }
            }
        }
        if end > start {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: src[start..<end])
            emit(.text(String(text)), at: start)
        }
    }

    // MARK: - Comments and raw blocks

    private mutating func lexComment(openedAt: Int) throws {
        let contentStart = pos
        var i = pos
        while i + 1 < src.count {
            if src[i] == "#" && src[i + 1] == "}" {
                pos = i + 2
                if i > contentStart && src[i - 1] == "-" {
                    finishStrippingEnd()
                } else if i > contentStart && src[i - 1] == "+" {
                    lineStarting = false
                } else {
                    finishTrimBlocksEnd()
                }
                return
            }
            i += 1
        }
        throw syntaxError("Missing end of comment tag", at: openedAt)
    }

    /// `{% raw %}` when the tag at `offset` is one; returns where its content begins.
    private func rawBeginEnd(at offset: Int) -> (end: Int, endsWithNewline: Bool)? {
        var i = offset + 2
        if at(i) == "-" || at(i) == "+" { i += 1 }
        i = skipWhitespace(from: i)
        guard matches("raw", at: i) else { return nil }
        i = skipWhitespace(from: i + 3)
        if matches("-%}", at: i) {
            let end = skipWhitespace(from: i + 3)
            return (end, end > i + 3 && src[end - 1] == "\n")
        }
        if matches("%}", at: i) { return (i + 2, false) }
        return nil
    }

    private mutating func lexRaw(contentStart: Int, beginEndsWithNewline: Bool) throws {
        lineStarting = beginEndsWithNewline
        var i = contentStart
        while i + 1 < src.count {
            if src[i] == "{" && src[i + 1] == "%" {
                var j = i + 2
                var sign: Unicode.Scalar?
                if at(j) == "-" || at(j) == "+" { sign = src[j]; j += 1 }
                j = skipWhitespace(from: j)
                if matches("endraw", at: j) {
                    j = skipWhitespace(from: j + 6)
                    if matches("+%}", at: j) || matches("-%}", at: j) || matches("%}", at: j) {
                        emitText(contentStart, i, strip: sign, kind: .block)
                        if matches("+%}", at: j) {
                            pos = j + 3
                            lineStarting = false
                        } else if matches("-%}", at: j) {
                            pos = j + 3
                            finishStrippingEnd()
                        } else {
                            pos = j + 2
                            finishTrimBlocksEnd()
                        }
                        return
                    }
                }
            }
            i += 1
        }
        throw syntaxError("Missing end of raw directive", at: contentStart)
    }

    /// After `-%}` / `-}}` / `-#}`: swallow all following whitespace.
    private mutating func finishStrippingEnd() {
        let end = skipWhitespace(from: pos)
        lineStarting = end > pos && src[end - 1] == "\n"
        pos = end
    }

    /// After `%}` / `#}`: trim_blocks removes exactly one newline.
    private mutating func finishTrimBlocksEnd() {
        if at(pos) == "\n" {
            pos += 1
            lineStarting = true
        } else {
            lineStarting = false
        }
    }

    // MARK: - Inside {% %} and {{ }}

    private mutating func lexTag(block: Bool, openedAt: Int) throws {
        var balance: [(close: Unicode.Scalar, at: Int)] = []
        while true {
            guard pos < src.count else {
                throw syntaxError(
                    "unexpected end of template, expected '\(block ? "end of statement block" : "end of print statement")'",
                    at: src.count)
            }
            if balance.isEmpty {
                if block {
                    if matches("+%}", at: pos) {
                        emit(.blockEnd, at: pos)
                        pos += 3
                        lineStarting = false
                        return
                    }
                    if matches("-%}", at: pos) {
                        emit(.blockEnd, at: pos)
                        pos += 3
                        finishStrippingEnd()
                        return
                    }
                    if matches("%}", at: pos) {
                        emit(.blockEnd, at: pos)
                        pos += 2
                        finishTrimBlocksEnd()
                        return
                    }
                } else {
                    if matches("-}}", at: pos) {
                        emit(.variableEnd, at: pos)
                        pos += 3
                        finishStrippingEnd()
                        return
                    }
                    if matches("}}", at: pos) {
                        emit(.variableEnd, at: pos)
                        pos += 2
                        lineStarting = false
                        return
                    }
                }
            }
            let c = src[pos]
            if isPythonWhitespace(c) {
                pos = skipWhitespace(from: pos)
                continue
            }
            if let (end, value) = try lexFloat() {
                emit(.float(value), at: pos)
                pos = end
                continue
            }
            if let (end, value) = try lexInteger() {
                emit(.integer(value), at: pos)
                pos = end
                continue
            }
            if isNameStart(c) {
                var end = pos + 1
                while end < src.count, isNameContinue(src[end]) { end += 1 }
                var name = String.UnicodeScalarView()
                name.append(contentsOf: src[pos..<end])
                emit(.name(String(name)), at: pos)
                pos = end
                continue
            }
            if c == "'" || c == "\"" {
                try lexString(quote: c)
                continue
            }
            try lexOperator(&balance)
        }
    }

    private mutating func lexOperator(_ balance: inout [(close: Unicode.Scalar, at: Int)]) throws {
        for two in ["//", "**", "==", "!=", ">=", "<="] where matches(two, at: pos) {
            emit(.op(two), at: pos)
            pos += 2
            return
        }
        let c = src[pos]
        guard "+-/*%~[](){}=.:|,;<>".unicodeScalars.contains(c) else {
            throw syntaxError("unexpected char '\(Character(c))'", at: pos)
        }
        switch c {
        case "(": balance.append((")", pos))
        case "[": balance.append(("]", pos))
        case "{": balance.append(("}", pos))
        case ")", "]", "}":
            guard let expected = balance.popLast() else {
                throw syntaxError("unexpected '\(Character(c))'", at: pos)
            }
            if expected.close != c {
                throw syntaxError("unexpected '\(Character(c))', expected '\(Character(expected.close))'", at: pos)
            }
        default: break
        }
        emit(.op(String(Character(c))), at: pos)
        pos += 1
    }

    // MARK: - Literals

    private func isDigit(_ s: Unicode.Scalar?) -> Bool {
        guard let s else { return false }
        return s >= "0" && s <= "9"
    }

    /// Matches `(\d+_)*\d+`, returning the end offset.
    private func scanDigits(_ start: Int) -> Int? {
        guard isDigit(at(start)) else { return nil }
        var i = start
        while isDigit(at(i)) { i += 1 }
        while at(i) == "_" && isDigit(at(i + 1)) {
            i += 1
            while isDigit(at(i)) { i += 1 }
        }
        return i
    }

    private func scanExponent(_ start: Int) -> Int? {
        guard at(start) == "e" || at(start) == "E" else { return nil }
        var i = start + 1
        if at(i) == "+" || at(i) == "-" { i += 1 }
        return scanDigits(i)
    }

    private func lexFloat() throws -> (Int, Double)? {
        if pos > 0 && src[pos - 1] == "." { return nil }
        guard let intEnd = scanDigits(pos) else { return nil }
        var fracEnd: Int?
        if at(intEnd) == ".", let f = scanDigits(intEnd + 1) { fracEnd = f }
        let end: Int
        if let f = fracEnd, let e = scanExponent(f) {
            end = e
        } else if let e = scanExponent(intEnd) {
            end = e
        } else if let f = fracEnd {
            end = f
        } else {
            return nil
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: src[pos..<end].filter { $0 != "_" })
        guard let value = Double(String(text)) else {
            throw syntaxError("invalid float literal", at: pos)
        }
        return (end, value)
    }

    private func lexInteger() throws -> (Int, Int)? {
        guard let first = at(pos), isDigit(first) else { return nil }
        func scanPrefixed(_ radix: Int) -> Int? {
            var i = pos + 2
            var any = false
            while true {
                var j = i
                if at(j) == "_" { j += 1 }
                guard let s = at(j), let d = hexDigit(UInt8(truncatingIfNeeded: s.value)), s.isASCII, Int(d) < radix
                else { break }
                i = j + 1
                any = true
            }
            return any ? i : nil
        }
        var end: Int?
        var radix = 10
        var digitsStart = pos
        if first == "0", let p = at(pos + 1) {
            let lower = Character(p).lowercased()
            let r = lower == "b" ? 2 : lower == "o" ? 8 : lower == "x" ? 16 : 0
            if r != 0, let e = scanPrefixed(r) {
                end = e
                radix = r
                digitsStart = pos + 2
            }
        }
        if end == nil {
            var i = pos + 1
            if first == "0" {
                while (at(i) == "0") || (at(i) == "_" && at(i + 1) == "0") { i += at(i) == "_" ? 2 : 1 }
            } else {
                while isDigit(at(i)) || (at(i) == "_" && isDigit(at(i + 1))) { i += at(i) == "_" ? 2 : 1 }
            }
            end = i
        }
        guard let end else { return nil }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: src[digitsStart..<end].filter { $0 != "_" })
        guard let value = Int(String(text), radix: radix) else {
            throw syntaxError("integer literal too large", at: pos)
        }
        return (end, value)
    }

    private mutating func lexString(quote: Unicode.Scalar) throws {
        let start = pos
        var i = pos + 1
        while i < src.count && src[i] != quote {
            i += src[i] == "\\" ? 2 : 1
        }
        guard i < src.count else { throw syntaxError("unexpected char '\(Character(quote))'", at: start) }
        let value = try unescape(src[(start + 1)..<i], at: start)
        emit(.string(value), at: start)
        pos = i + 1
    }

    /// Python `unicode-escape` decoding, which jinja2 applies to string literals.
    private func unescape(_ body: ArraySlice<Unicode.Scalar>, at offset: Int) throws -> String {
        var out = String.UnicodeScalarView()
        var i = body.startIndex
        func hex(_ count: Int) throws -> Unicode.Scalar {
            guard i + count <= body.endIndex else {
                throw syntaxError("truncated escape sequence", at: offset)
            }
            var v: UInt32 = 0
            for k in 0..<count {
                let s = body[i + k]
                guard s.isASCII, let d = hexDigit(UInt8(s.value)) else {
                    throw syntaxError("truncated escape sequence", at: offset)
                }
                v = v * 16 + d
            }
            i += count
            guard let scalar = Unicode.Scalar(v) else {
                throw syntaxError("illegal Unicode character", at: offset)
            }
            return scalar
        }
        while i < body.endIndex {
            let c = body[i]
            i += 1
            guard c == "\\", i < body.endIndex else {
                out.append(c)
                continue
            }
            let e = body[i]
            i += 1
            switch e {
            case "\n": break
            case "\\", "'", "\"": out.append(e)
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "x": out.append(try hex(2))
            case "u": out.append(try hex(4))
            case "U": out.append(try hex(8))
            case "0"..."7":
                var v = e.value - 48
                var n = 1
                while n < 3, i < body.endIndex, body[i] >= "0", body[i] <= "7" {
                    v = v * 8 + body[i].value - 48
                    i += 1
                    n += 1
                }
                out.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            case "N": throw syntaxError("\\N{...} escapes are not supported", at: offset)
            default:
                // Python keeps unknown escapes verbatim.
                out.append("\\")
                out.append(e)
            }
        }
        return String(out)
    }

    private func isNameStart(_ s: Unicode.Scalar) -> Bool {
        s == "_" || (s.isASCII ? s.properties.isAlphabetic : s.properties.isXIDStart)
    }

    private func isNameContinue(_ s: Unicode.Scalar) -> Bool {
        s == "_" || (s.isASCII ? (s.properties.isAlphabetic || isDigit(s)) : s.properties.isXIDContinue)
    }
}
