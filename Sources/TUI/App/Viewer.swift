import ProfileModel

public struct ViewerOptions: Sendable {
    public var ascii = false
    public var noColor = false
    public var initialView: ViewKind = .tree
    public var metric: Int? = nil
    public var threadsMerged = true
    public var splitLines = false
    /// Open on the summary (what kind of slow it is).
    public var summary = false
    /// Clicks and the wheel (off: the terminal keeps its own selection).
    public var mouse = true
    /// The palette for a light terminal background.
    public var lightTheme = false
    /// The functions table's first sort (nil: by total).
    public var sort: SortKey? = nil
    /// The editor command for `e` (config.toml), before $EDITOR.
    public var editor: String? = nil
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
        if let sort = options.sort { s.sort = sort }
        if session.diffBase != nil { s.sort = .self }
        s.openTreeIfNeeded(deriver: session, size: size)
        if options.initialView != .tree { s.switchView(to: options.initialView, deriver: session, size: size) }
        if options.summary { s.overlay = .summary }
        if session.diffVerdicts != nil { s.openOnLargestChange(deriver: session, size: size) }
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

    /// Applies `keys` without a terminal and returns the final screen as text: the same loop
    /// as on a terminal, on one in memory, with the editor only named in the status line.
    public static func batch(_ session: Session, size: Size, keys: [Key], options: ViewerOptions) -> String {
        batchGrid(session, size: size, keys: keys, options: options).grid.dump()
    }

    /// `batch`'s final state and grid (tests read both).
    static func batchGrid(_ session: Session, size: Size, keys: [Key], options: ViewerOptions) -> (state: AppState, grid: CellGrid) {
        let color: ColorMode = options.noColor ? .none : .full256
        let term = MemoryTerminal(size: size, events: keys.map { .key($0) }, colorMode: color)
        // A memory terminal throws no signals.
        let s = (try? loop(session, terminal: term, options: options) { e in
            "would run: " + Editor.command(for: e, editor: options.editor).suffix(e.line == nil ? 1 : 2).joined(separator: " ")
        }) ?? initialState(session, size: size, options: options)
        return (s, Screen.render(s, session: session, size: size, options: RenderOptions(ascii: options.ascii, color: color)))
    }

    /// The interactive loop. Returns the signal that ended it, if any (the caller re-raises it
    /// after the terminal is restored).
    public static func run(_ session: Session, options: ViewerOptions, live: LiveIngest? = nil) throws -> Int32? {
        let term = try CursesTerminal(noColor: options.noColor, light: options.lightTheme, mouse: options.mouse)
        defer { term.restore() }
        defer { live?.stop() }
        do {
            _ = try loop(session, terminal: term, options: options, live: live) { Editor.run($0, editor: options.editor) }
        } catch let sig as TerminalSignal {
            return sig.signal == SIGINT ? nil : sig.signal     // Ctrl-C quits like q
        }
        return nil
    }

    /// The one event loop, for the terminal and for `--batch`: takes a live stream's newer
    /// snapshot, draws when something changed (a key that changed the state, a resize, a
    /// snapshot, the live clock), handles the next event, and hands the terminal to the editor
    /// when `e` asks. Returns the final state when the user quits or the input ends.
    public static func loop(_ session: Session, terminal: Terminal, options: ViewerOptions, live: SnapshotSource? = nil,
                            editor: (EditTarget) -> String?) throws -> AppState {
        let render = RenderOptions(ascii: options.ascii || !terminal.utf8, color: terminal.colorMode)
        var size = terminal.size
        var s = initialState(session, size: size, options: options)
        var dirty = true, force = true
        var generation = -1
        /// One key through the reducer, and the effects it asks for.
        func handle(_ key: Key) {
            var effects = s.reduce(key, deriver: session, size: size)
            while !effects.isEmpty {
                switch effects.removeFirst() {
                case .redrawAll: force = true
                case .openEditor(let e):
                    s.message = terminal.handOver { editor(e) }
                    force = true
                case .read(let key):
                    // Afterwards what the key needs is at hand (or its error is), so
                    // the key goes through this time.
                    session.read(for: s, key: key)
                    effects += s.reduce(key, deriver: session, size: size)
                }
            }
        }
        while !s.quit {
            if let live {
                live.setWindow(s.window)
                let (snapshot, status) = live.snapshot()
                if session.live != status { session.live = status; dirty = true }
                if let snapshot, status.generation != generation, !s.paused {
                    generation = status.generation
                    session.adopt(snapshot, into: &s, size: size)
                    dirty = true
                }
            }
            if dirty {
                // The session derives (and reads files, if it must); drawing is pure.
                let derived = session.derive(s, size: size)
                terminal.draw(Screen.render(s, derived: derived, size: size, options: render, now: terminal.now), force: force)
                dirty = false
                force = false
            }
            guard let event = try terminal.nextEvent() else { break }
            switch event {
            case .tick: dirty = live != nil               // the live clock and rate move on
            case .snapshot: dirty = true
            case .resize(let new): size = new; force = true; dirty = true
            case .key(let key):
                let before = s
                handle(key)
                dirty = force || s != before
            case .mouse(let m):
                let before = s
                for key in s.mouse(m, derived: session.derive(s, size: size), deriver: session, size: size) { handle(key) }
                dirty = force || s != before
            }
        }
        return s
    }
}

/// Where a live session's snapshots come from: `LiveIngest`, or a stand-in in tests.
public protocol SnapshotSource: AnyObject {
    func setWindow(_ seconds: Int?)
    func snapshot() -> (Profile?, LiveStatus)
}

extension LiveIngest: SnapshotSource {}
