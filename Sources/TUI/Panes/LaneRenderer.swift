/// Turns spans into one row of cells with eighth-cell resolution. Each cell is split into 8
/// slots; a slot belongs to the span covering its midpoint. A cell whose slots change owner
/// once is drawn as a left eighth-block in the first owner's colour on the second's, which is
/// how a span starting or ending mid-cell stays visible at its true position.
struct LaneRenderer {
    /// Owner per slot (index into the caller's spans), -1 for none.
    private(set) var slots: [Int]
    let columns: Int
    let origin: Double
    let nanosPerColumn: Double

    init(columns: Int, origin: UInt64, nanosPerColumn: Double) {
        self.columns = max(0, columns)
        self.origin = Double(origin)
        self.nanosPerColumn = nanosPerColumn
        slots = Array(repeating: -1, count: self.columns * 8)
    }

    /// Slot position of time `t` (fractional, may fall outside the row).
    func slot(_ t: UInt64) -> Double { (Double(t) - origin) / nanosPerColumn * 8 }

    /// Column of time `t` (may fall outside the row).
    func column(_ t: UInt64) -> Int { Int((slot(t) / 8).rounded(.down)) }

    /// Claims the slots whose midpoints fall in `start ..< end`; a span shorter than a slot
    /// still claims one, so a tiny batch never disappears.
    mutating func add(_ owner: Int, start: UInt64, end: UInt64) {
        let s = slot(start), e = slot(end)
        guard e > 0, s < Double(slots.count) else { return }
        var k0 = max(0, Int((s - 0.5).rounded(.up)))
        var k1 = min(slots.count, Int((e - 0.5).rounded(.up)))
        if k1 <= k0 {
            k0 = min(max(0, Int(s.rounded(.down))), slots.count - 1)
            k1 = k0 + 1
        }
        for k in k0 ..< k1 { slots[k] = owner }
    }

    /// Draws the row at (x, y); `color(owner)` is the owner's colour, `bg` the empty colour.
    func draw(into buf: inout ScreenBuffer, x: Int, y: Int, base: CellStyle, color: (Int) -> RGB?) {
        for c in 0 ..< columns {
            let cell = Array(slots[c * 8 ..< c * 8 + 8])
            let a = cell[0]
            let k = cell.firstIndex { $0 != a } ?? 8
            var st = base
            if k == 8 {
                if a >= 0 { st.fg = color(a) }
                buf.set(x + c, y, a >= 0 ? "█" : " ", style: st)
                continue
            }
            // Two owners at most per cell: the first run and whoever else holds the most slots.
            let rest = cell[k...].filter { $0 != a }
            let b = Set(rest).max { x, y in (rest.filter { $0 == x }.count, x) < (rest.filter { $0 == y }.count, y) }!
            switch (a >= 0, b >= 0) {
            case (true, true):
                st.fg = color(a)
                st.bg = color(b)
            case (true, false):
                st.fg = color(a)
            default:
                // Empty then filled: draw the empty part as the "ink" and reverse the colours.
                st.fg = color(b)
                st.reverse = true
            }
            buf.set(x + c, y, Glyphs.leftEighths[k], style: st)
        }
    }
}
