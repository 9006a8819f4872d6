@preconcurrency import CNcursesw
#if canImport(Glibc)
import Glibc
#endif

/// A key press, decoded from ncurses.
public enum Key: Equatable, Sendable {
    case char(Character)
    case enter, backspace, delete, escape, tab
    case up, down, left, right, home, end, pageUp, pageDown
    case ctrl(Character)
    case function(Int)
    case resize
}

/// The one place that talks to ncurses. Every call happens on the thread that created it.
///
/// `flush` draws only the cells that changed since the last frame (then wnoutrefresh +
/// doupdate), so an idle screen costs nothing and a streaming answer repaints one line.
public final class CursesTerminal {
    private var previous: ScreenBuffer?
    private var pairs: [PairKey: Int32] = [:]
    private var nextPair: Int32 = 1
    private let colorMode: ColorMode
    private var closed = false

    enum ColorMode { case none, ansi16, xterm256, direct }
    struct PairKey: Hashable { var fg: Int32; var bg: Int32 }

    public private(set) var width: Int
    public private(set) var height: Int

    public init(noColor: Bool) {
        // ncurses only installs its resize handler when SIGWINCH is at its default, and an
        // ignored signal stays ignored across exec (seen when started under a test harness).
        // A blocked signal stays blocked across exec too; unblock it, and also poll the size
        // each frame (`pollResize`), so a resize is never missed.
        signal(SIGWINCH, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGWINCH)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        setlocale(LC_ALL, "")
        _ = initscr()
        raw()
        noecho()
        nonl()
        keypad(rs_stdscr(), true)
        set_escdelay(25)
        curs_set(1)
        wtimeout(rs_stdscr(), 33)
        if !noColor && has_colors() {
            start_color()
            use_default_colors()
            let n = rs_colors()
            colorMode = n >= 256 ? .xterm256 : n >= 16 ? .ansi16 : .none
        } else {
            colorMode = .none
        }
        width = Int(getmaxx(rs_stdscr()))
        height = Int(getmaxy(rs_stdscr()))
    }

    deinit { close() }

    /// Restores the terminal. Safe to call more than once.
    public func close() {
        guard !closed else { return }
        closed = true
        endwin()
    }

    /// Asks the terminal for its size and adopts it when it changed; true if it did.
    public func pollResize() -> Bool {
        var ws = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 else { return false }
        let (w, h) = (Int(ws.ws_col), Int(ws.ws_row))
        guard w != width || h != height else { return false }
        resizeterm(Int32(h), Int32(w))
        width = w
        height = h
        previous = nil
        return true
    }

    /// Waits up to the frame tick for a key.
    public func readKey() -> Key? {
        var wch: wint_t = 0
        let r = wget_wch(rs_stdscr(), &wch)
        if r == ERR { return nil }
        if r == KEY_CODE_YES {
            switch Int32(wch) {
            case KEY_RESIZE:
                width = Int(getmaxx(rs_stdscr()))
                height = Int(getmaxy(rs_stdscr()))
                previous = nil
                return .resize
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_BACKSPACE: return .backspace
            case KEY_DC: return .delete
            case KEY_ENTER: return .enter
            default:
                for n in 1 ... 12 where Int32(wch) == rs_key_f(Int32(n)) { return .function(n) }
                return nil
            }
        }
        switch wch {
        case 13, 10: return .enter
        case 27: return .escape
        case 9: return .tab
        case 127, 8: return .backspace
        case 1 ... 26: return .ctrl(Character(UnicodeScalar(UInt8(wch) + 96)))
        default:
            guard let s = UnicodeScalar(UInt32(wch)) else { return nil }
            return .char(Character(s))
        }
    }

    /// Draws `buffer`, touching only cells that differ from the last frame, and places the cursor.
    public func flush(_ buffer: ScreenBuffer, cursor: (x: Int, y: Int)?) {
        let win = rs_stdscr()
        let full = previous == nil || previous!.width != buffer.width || previous!.height != buffer.height
        if full { werase(win) }
        for y in 0 ..< min(buffer.height, height) {
            for x in 0 ..< min(buffer.width, width) {
                let cell = buffer[x, y]
                if !full, previous![x, y] == cell { continue }
                if cell.glyph.isEmpty { continue }  // right half of a wide character
                var attrs: attr_t = 0
                if cell.style.bold { attrs |= rs_a_bold() }
                if cell.style.dim { attrs |= rs_a_dim() }
                if cell.style.italic { attrs |= rs_a_italic() }
                if cell.style.reverse { attrs |= rs_a_reverse() }
                let pair = pairID(fg: cell.style.fg, bg: cell.style.bg)
                var wide = Array(cell.glyph.unicodeScalars.map { wchar_t($0.value) })
                wide.append(0)
                _ = rs_put_cell(win, Int32(y), Int32(x), wide, attrs, pair)
            }
        }
        previous = buffer
        if let c = cursor {
            curs_set(1)
            wmove(win, Int32(c.y), Int32(c.x))
        } else {
            curs_set(0)
        }
        wnoutrefresh(win)
        doupdate()
    }

    private func pairID(fg: RGB?, bg: RGB?) -> Int32 {
        guard colorMode != .none else { return 0 }
        let key = PairKey(fg: fg.map(colorIndex) ?? -1, bg: bg.map(colorIndex) ?? -1)
        if key.fg == -1 && key.bg == -1 { return 0 }
        if let p = pairs[key] { return p }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, key.fg, key.bg)
        pairs[key] = p
        return p
    }

    /// Nearest palette entry: the xterm 6x6x6 cube or grey ramp, or the 16 ANSI colours.
    private func colorIndex(_ c: RGB) -> Int32 {
        switch colorMode {
        case .xterm256, .direct:
            let q = { (v: UInt8) -> Int in v < 48 ? 0 : v < 115 ? 1 : Int((Int(v) - 35) / 40) }
            let (r, g, b) = (q(c.r), q(c.g), q(c.b))
            let levels = [0, 95, 135, 175, 215, 255]
            let cubeDist = sq(levels[r] - Int(c.r)) + sq(levels[g] - Int(c.g)) + sq(levels[b] - Int(c.b))
            let avg = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
            let grey = max(0, min(23, (avg - 3) / 10))
            let gv = 8 + grey * 10
            let greyDist = sq(gv - Int(c.r)) + sq(gv - Int(c.g)) + sq(gv - Int(c.b))
            return greyDist < cubeDist ? Int32(232 + grey) : Int32(16 + 36 * r + 6 * g + b)
        case .ansi16:
            let bright = (Int(c.r) + Int(c.g) + Int(c.b)) > 382
            let bits = (c.r > 100 ? 1 : 0) | (c.g > 100 ? 2 : 0) | (c.b > 100 ? 4 : 0)
            return Int32(bits + (bright ? 8 : 0))
        case .none:
            return -1
        }
    }

    private func sq(_ v: Int) -> Int { v * v }
}
