/// A 24-bit colour.
public struct RGB: Hashable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

    /// Parses `#RRGGBB` (or `RRGGBB`).
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        guard digits.count == 6, let v = UInt32(digits, radix: 16) else { return nil }
        self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
    }
}

/// How a cell is drawn. nil colours mean the terminal's default.
public struct CellStyle: Hashable, Sendable {
    public var fg: RGB?
    public var bg: RGB?
    public var bold = false
    public var dim = false
    public var italic = false
    public var reverse = false

    public init(fg: RGB? = nil, bg: RGB? = nil, bold: Bool = false, dim: Bool = false, italic: Bool = false, reverse: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.dim = dim
        self.italic = italic
        self.reverse = reverse
    }
}

/// One terminal cell. A wide character occupies its cell and leaves the next one empty ("").
public struct Cell: Equatable, Sendable {
    public var glyph: String
    public var style: CellStyle
    public init(glyph: String, style: CellStyle) {
        self.glyph = glyph
        self.style = style
    }
    public static let blank = Cell(glyph: " ", style: CellStyle())
}

/// What panes draw into: a grid of cells with no terminal attached, so layouts and panes are
/// pure functions that tests can read back as text.
public struct ScreenBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell { cells[y * width + x] }

    /// Replaces one cell; callers check the bounds (see `set` for a clipped version).
    public mutating func setCell(x: Int, y: Int, _ cell: Cell) { cells[y * width + x] = cell }

    /// East Asian Wide and Fullwidth blocks (the common ones; what terminals draw 2 columns wide).
    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100 ... 0x115F, 0x2E80 ... 0x303E, 0x3041 ... 0x33FF, 0x3400 ... 0x4DBF, 0x4E00 ... 0x9FFF,
        0xA000 ... 0xA4CF, 0xAC00 ... 0xD7A3, 0xF900 ... 0xFAFF, 0xFE30 ... 0xFE4F, 0xFF00 ... 0xFF60,
        0xFFE0 ... 0xFFE6, 0x1F300 ... 0x1F64F, 0x1F900 ... 0x1F9FF, 0x20000 ... 0x3FFFD,
    ]

    /// Columns a character takes on a terminal (0 for combining marks, 2 for wide ones).
    /// Computed from Unicode data rather than wcwidth, which depends on the process locale.
    public static func columns(of ch: Character) -> Int {
        guard let s = ch.unicodeScalars.first else { return 0 }
        if s.value < 0x20 || s.value == 0x7F { return 1 }  // drawn as a replacement
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if s.properties.isEmojiPresentation || wideRanges.contains(where: { $0.contains(s.value) }) { return 2 }
        return 1
    }

    public static func columns(of s: Substring) -> Int { s.reduce(0) { $0 + columns(of: $1) } }
    public static func columns(of s: String) -> Int { columns(of: s[...]) }

    /// Writes `text` at (x, y), clipped to `maxWidth` columns and the buffer; returns the columns used.
    @discardableResult
    public mutating func put(_ text: some StringProtocol, x: Int, y: Int, style: CellStyle = CellStyle(), maxWidth: Int? = nil) -> Int {
        guard y >= 0, y < height else { return 0 }
        let limit = min(width, x + (maxWidth ?? width))
        var col = x
        for ch in text {
            let w = Self.columns(of: ch)
            if w == 0 { continue }
            guard col + w <= limit else { break }
            if col >= 0 {
                let printable = ch.unicodeScalars.first.map { $0.value < 0x20 || $0.value == 0x7F } == true ? "·" : String(ch)
                cells[y * width + col] = Cell(glyph: printable, style: style)
                if w == 2 { cells[y * width + col + 1] = Cell(glyph: "", style: style) }
            }
            col += w
        }
        return col - x
    }

    /// Paints a rectangle with spaces in `style`.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, style: CellStyle) {
        for row in max(0, y) ..< min(height, y + h) {
            for col in max(0, x) ..< min(width, x + w) { cells[row * width + col] = Cell(glyph: " ", style: style) }
        }
    }

    /// The rows as plain text (trailing spaces kept), for tests and snapshots.
    public var lines: [String] {
        (0 ..< height).map { y in (0 ..< width).map { self[$0, y].glyph }.joined() }
    }
}

/// Splits text into lines of at most `width` columns, breaking at spaces where it can.
public func wrap(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var out: [String] = []
    for para in text.split(separator: "\n", omittingEmptySubsequences: false) {
        var line = ""
        var lineCols = 0
        for word in para.split(separator: " ", omittingEmptySubsequences: false) {
            let wc = ScreenBuffer.columns(of: word)
            let sep = line.isEmpty ? 0 : 1
            if lineCols + sep + wc <= width {
                if sep == 1 { line += " " }
                line += word
                lineCols += sep + wc
                continue
            }
            if !line.isEmpty { out.append(line) }
            line = ""
            lineCols = 0
            var rest = Substring(word)
            while ScreenBuffer.columns(of: rest) > width {
                var cols = 0
                var cut = rest.startIndex
                while cut < rest.endIndex, cols + ScreenBuffer.columns(of: rest[cut]) <= width {
                    cols += ScreenBuffer.columns(of: rest[cut])
                    cut = rest.index(after: cut)
                }
                if cut == rest.startIndex { cut = rest.index(after: cut) }
                out.append(String(rest[..<cut]))
                rest = rest[cut...]
            }
            line = String(rest)
            lineCols = ScreenBuffer.columns(of: rest)
        }
        out.append(line)
    }
    return out
}
