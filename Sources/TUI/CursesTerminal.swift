@preconcurrency import CNcursesw
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A key press, decoded from ncurses.
public enum Key: Equatable, Sendable {
    case char(Character)
    case enter, backspace, delete, escape, tab
    case up, down, left, right, home, end, pageUp, pageDown
    case ctrl(Character)
    /// Esc followed at once by a key: what terminals send for Alt/Meta+key.
    case alt(Character)
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
    private let depth: ColorDepth
    private var closed = false

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
            depth = ColorDepth.detect(colors: Int(rs_colors()), environment: ProcessInfo.processInfo.environment)
        } else {
            depth = .none
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
        case 27:
            // Alt+key arrives as Esc then the key with no pause; a lone Esc times out.
            wtimeout(rs_stdscr(), 0)
            defer { wtimeout(rs_stdscr(), 33) }
            var next: wint_t = 0
            let r = wget_wch(rs_stdscr(), &next)
            if r == OK, next >= 32, let s = UnicodeScalar(UInt32(next)) { return .alt(Character(s)) }
            if r == KEY_CODE_YES { ungetch(Int32(next)) }  // Esc then an arrow: keep the arrow
            return .escape
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
        guard depth != .none else { return 0 }
        let key = PairKey(fg: fg.flatMap { ColorMap.index($0, depth: depth) }.map(Int32.init) ?? -1,
                          bg: bg.flatMap { ColorMap.index($0, depth: depth) }.map(Int32.init) ?? -1)
        if key.fg == -1 && key.bg == -1 { return 0 }
        if let p = pairs[key] { return p }
        let p = nextPair
        nextPair += 1
        init_extended_pair(p, key.fg, key.bg)
        pairs[key] = p
        return p
    }
}
