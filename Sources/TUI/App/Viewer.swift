import ProfileModel
#if canImport(Glibc)
import Glibc
#endif

public struct ViewerOptions: Sendable {
    public var ascii = false
    public var noColor = false
    public var initialView: ViewKind = .tree
    public var metric: Int? = nil
    public var threadsMerged = true
    public var splitLines = false
    /// Open on the summary (what kind of slow it is).
    public var summary = false
    public init() {}
}

/// Runs a viewer session: headless (`--batch`) or on the terminal. Both go through the same
/// state, reducer and drawing; only the terminal adapter differs.
public enum Viewer {
    /// The opening state: the chosen view, with the call tree opened on the hot path.
    public static func initialState(_ session: Session, size: Size, options: ViewerOptions) -> AppState {
        var s = AppState(metric: options.metric ?? session.base.defaultMetric)
        s.threadsMerged = options.threadsMerged
        s.splitLines = options.splitLines
        s.view = .tree
        // A diff's table is sorted by the change in self time, as `perftop diff` prints it.
        if session.diffBase != nil { s.sort = .self }
        s.openTreeIfNeeded(session: session, size: size)
        if options.initialView != .tree { s.switchView(to: options.initialView, session: session, size: size) }
        if options.summary { s.overlay = .summary }
        return s
    }

    /// Why the viewer cannot draw on a terminal of type `term`, if it cannot: `dumb` (and an
    /// unset TERM) cannot move the cursor, so curses would leave the screen empty.
    public static func unusableTerminal(_ term: String?) -> String? {
        let t = term ?? ""
        guard t.isEmpty || t == "dumb" else { return nil }
        return "TERM=\(t.isEmpty ? "(unset)" : t) cannot move the cursor, so the viewer cannot draw; "
            + "`perftop report FILE` prints the table, or set TERM (for example TERM=xterm-256color)"
    }

    /// Applies `keys` without a terminal and returns the final screen as text.
    public static func batch(_ session: Session, size: Size, keys: [Key], options: ViewerOptions) -> String {
        var s = initialState(session, size: size, options: options)
        for k in keys {
            s.handle(k, session: session, size: size)
            if let e = s.editRequest {
                s.editRequest = nil
                s.message = "would run: " + Editor.command(for: e).suffix(e.line == nil ? 1 : 2).joined(separator: " ")
            }
            if s.quit { break }
        }
        let color: ColorMode = options.noColor ? .none : .full256
        return Screen.render(s, session: session, size: size, options: RenderOptions(ascii: options.ascii, color: color)).dump()
    }

    /// The interactive loop. Returns the signal that ended it, if any (the caller re-raises it
    /// after the terminal is restored).
    public static func run(_ session: Session, options: ViewerOptions, live: LiveIngest? = nil) throws -> Int32? {
        let term = try CursesTerminal(noColor: options.noColor)
        defer { term.restore() }
        let render = RenderOptions(ascii: options.ascii || !term.utf8, color: term.colorMode)
        var size = term.size
        var s = initialState(session, size: size, options: options)
        var force = true
        var generation = -1
        defer { live?.stop() }
        while !s.quit {
            if let live {
                live.setWindow(s.window)
                let (snapshot, status) = live.snapshot()
                session.live = status
                if let snapshot, status.generation != generation, !s.paused {
                    generation = status.generation
                    s.adopt(snapshot, session: session, size: size)
                }
            }
            term.draw(Screen.render(s, session: session, size: size, options: render), force: force)
            force = false
            let key: Key?
            do { key = try term.readKey() } catch let sig as TerminalSignal {
                if sig.signal == SIGINT { return nil }     // Ctrl-C quits like q
                return sig.signal
            }
            guard let key else { continue }
            if key == .resize { size = term.size; force = true; continue }
            if s.handle(key, session: session, size: size) { force = true }
            if let e = s.editRequest {
                s.editRequest = nil
                s.message = term.suspend { Editor.run(e) }
                force = true
            }
        }
        return nil
    }
}
