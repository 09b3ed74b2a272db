// The only file that talks to curses (ncursesw through the CNCurses shim).
import CNCurses
import ProfileModel   // the C library, re-exported from its Platform file

/// Signals that end the session. The handlers only record the signal; the event loop notices
/// within its 100 ms key timeout, restores the terminal and exits.
nonisolated(unsafe) private var pendingSignal: Int32 = 0
nonisolated(unsafe) private var activeScreen = false

private func onSignal(_ sig: Int32) { pendingSignal = sig }

/// Signals whose default action kills the process but that mean nothing to a viewer (htop
/// ignores them too): a stray `kill -USR1`, an alarm, a closed pipe (a write then fails with
/// EPIPE instead). A no-op handler rather than SIG_IGN, so an editor or sampler started from
/// the viewer gets the default action back at exec.
private func onHarmless(_ sig: Int32) {}
private let harmlessSignals: [Int32] = [SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE]

/// Last resort for crashes: leave curses so the shell is usable, then die as before.
private func onFatal(_ sig: Int32) {
    if activeScreen { endwin() }
    signal(sig, SIG_DFL)
    raise(sig)
}

public final class CursesTerminal {
    private let screen: OpaquePointer
    private let win: UnsafeMutablePointer<WINDOW>
    private var ttyFile: UnsafeMutablePointer<FILE>?
    private var outFile: UnsafeMutablePointer<FILE>?
    private var last: CellGrid?
    private var pairs: [Role: Int32] = [:]
    private var appearances: [Role: Appearance] = [:]
    public let colorMode: ColorMode
    public let utf8: Bool
    private var restored = false
    /// The last mouse event decoded, until `nextEvent` takes it; the last press, to tell a
    /// double click.
    private var mouseEvent: MouseEvent?
    private var lastPress: (x: Int, y: Int, at: Double)?

    /// Starts curses on the controlling terminal. Keys come from /dev/tty, so standard input
    /// may carry data (a live stream).
    public init(noColor: Bool, light: Bool = false, mouse: Bool = false) throws {
        perftop_set_locale()
        let codeset = String(cString: nl_langinfo(Int32(CODESET)))
        utf8 = codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8"
        if let why = Viewer.unusableTerminal(getenv("TERM").map { String(cString: $0) }) { throw TerminalError(why) }
        ttyFile = perftop_open_tty()
        outFile = perftop_stdout_file()
        guard let tty = ttyFile, let out = outFile, let scr = newterm(nil, out, tty) else {
            let term = getenv("TERM").map { String(cString: $0) } ?? "unset"
            throw TerminalError("cannot open the terminal (TERM=\(term))")
        }
        screen = scr
        set_term(scr)
        guard let w = perftop_stdscr() else { endwin(); throw TerminalError("curses has no screen window") }
        win = w
        activeScreen = true
        cbreak()
        noecho()
        nonl()
        _ = keypad(win, true)
        _ = curs_set(0)                       // may fail (vt100): fine
        set_escdelay(25)
        wtimeout(win, 100)
        // Clicks and the wheel (Shift+drag still selects text in most terminals).
        if mouse { _ = perftop_mouse_enable(1) }
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { signal(s, onSignal) }
        for s in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP] { signal(s, onFatal) }
        for s in harmlessSignals { signal(s, onHarmless) }
        var mode = ColorMode.none
        if !noColor && has_colors() && start_color() == perftop_ok() {
            let defaults = use_default_colors() == perftop_ok()
            let n = perftop_colors()
            mode = n >= 256 ? .full256 : n >= 8 ? .eight : .none
            if perftop_color_pairs() <= Int32(Role.allCases.count) { mode = .none }
            if mode != .none {
                for role in Role.allCases {
                    let a = Theme.appearance(role, mode: mode, light: light)
                    let pair = Int32(role.rawValue) + 1
                    var fg = a.fg, bg = a.bg
                    if !defaults { if fg < 0 { fg = 7 }; if bg < 0 { bg = 0 } }
                    if init_pair(Int16(pair), fg, bg) == perftop_ok() { pairs[role] = pair }
                }
            }
        }
        colorMode = mode
        for role in Role.allCases { appearances[role] = Theme.appearance(role, mode: mode, light: light) }
    }

    public var size: Size {
        var h: Int32 = 0, w: Int32 = 0
        perftop_size(win, &h, &w)
        return Size(width: Int(w), height: Int(h))
    }

    /// Draws the grid, rewriting only the rows that changed since the last frame.
    public func draw(_ g: CellGrid, force: Bool = false) {
        if force { last = nil; _ = clearok(win, true) }
        for y in 0..<g.height {
            if let l = last, l.width == g.width, l.height == g.height, (0..<g.width).allSatisfy({ l[$0, y] == g[$0, y] }) {
                continue
            }
            var x = 0
            while x < g.width {
                let role = g[x, y].role
                var text = ""
                let start = x
                while x < g.width && g[x, y].role == role {
                    if !g[x, y].continuation { text += utf8 ? g[x, y].text : asciiOnly(g[x, y].text) }
                    x += 1
                }
                let a = appearances[role] ?? Appearance()
                _ = perftop_style(win, a.bold ? 1 : 0, a.reverse ? 1 : 0, a.underline ? 1 : 0, a.dim ? 1 : 0, pairs[role] ?? 0)
                // The bottom-right cell cannot be written without scrolling on some terminals.
                if y == g.height - 1 && x == g.width && !text.isEmpty { text.removeLast() }
                _ = perftop_put(win, Int32(y), Int32(start), text)
            }
        }
        _ = wnoutrefresh(win)
        _ = doupdate()
        last = g
    }

    private func asciiOnly(_ s: String) -> String {
        s.unicodeScalars.allSatisfy { $0.isASCII } ? s : "?"
    }

    /// The next key, or nil after the 100 ms timeout. Throws when a signal asked to stop.
    public func readKey() throws -> Key? {
        if pendingSignal != 0 { throw TerminalSignal(signal: pendingSignal) }
        var ch: wint_t = 0
        let r = wget_wch(win, &ch)
        if pendingSignal != 0 { throw TerminalSignal(signal: pendingSignal) }
        if r == perftop_err() { return nil }
        if r == perftop_key_code_yes() {
            let code = Int32(ch)
            if code == perftop_key_mouse() {
                decodeMouse()
                return nil
            }
            if code == perftop_key_resize() {
                var h: Int32 = 0, w: Int32 = 0
                h = perftop_lines(); w = perftop_cols()
                _ = wresize(win, h, w)
                last = nil
                _ = wclear(win)
                return .resize
            }
            let table: [(Int32, Key)] = [(0, .up), (1, .down), (2, .left), (3, .right), (4, .pgUp), (5, .pgDn),
                                         (6, .home), (7, .end), (8, .backspace), (9, .delete), (10, .backTab),
                                         (11, .enter), (12, .function(1))]
            for (i, k) in table where perftop_key(i) == code { return k }
            return nil
        }
        switch ch {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .esc
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(UnicodeScalar(UInt8(ch) + 96)))
        default:
            guard let u = UnicodeScalar(UInt32(ch)) else { return nil }
            return .char(Character(u))
        }
    }

    /// Reads the pending mouse report into `mouseEvent`.
    private func decodeMouse() {
        var x: Int32 = 0, y: Int32 = 0
        let kind: MouseEvent.Kind
        switch perftop_get_mouse(&x, &y) {
        case 1:
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let t = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
            let double = lastPress.map { $0.x == Int(x) && $0.y == Int(y) && t - $0.at <= MouseEvent.doubleClickInterval } ?? false
            kind = double ? .doubleClick : .press
            lastPress = double ? nil : (Int(x), Int(y), t)
        case 2: kind = .wheelUp
        case 3: kind = .wheelDown
        default: return
        }
        mouseEvent = MouseEvent(kind, x: Int(x), y: Int(y))
    }

    /// The mouse event decoded by the last `readKey`, once.
    public func takeMouseEvent() -> MouseEvent? {
        defer { mouseEvent = nil }
        return mouseEvent
    }

    /// Leaves curses for the duration of `body` (an editor in the foreground), with the shell's
    /// terminal modes, then takes the screen back and redraws it whole. Ctrl-C and Ctrl-\\
    /// belong to the foreground program meanwhile; SIGTERM and SIGHUP still end the session.
    public func suspend<T>(_ body: () -> T) -> T {
        _ = def_prog_mode()
        _ = curs_set(1)
        endwin()
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        let result = body()
        signal(SIGINT, onSignal)
        signal(SIGQUIT, onSignal)
        _ = reset_prog_mode()
        _ = curs_set(0)
        last = nil
        _ = clearok(win, true)
        return result
    }

    /// Leaves curses and puts the terminal back (cursor, echo, main screen). Safe to call twice.
    public func restore() {
        guard !restored else { return }
        restored = true
        _ = perftop_mouse_enable(0)
        _ = curs_set(1)
        endwin()
        activeScreen = false
        delscreen(screen)
        if let t = ttyFile { fclose(t) }
        if let o = outFile { fflush(o) }
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP] + harmlessSignals {
            signal(s, SIG_DFL)
        }
    }

    deinit { restore() }
}

public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
}

/// A signal ended the session; re-raise it after restoring the terminal.
public struct TerminalSignal: Error { public var signal: Int32 }
