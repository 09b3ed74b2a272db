/// What a key asks for. Views interpret the movement actions in their own way (in the flame
/// graph, up is the parent frame; in a list, the row above).
public enum Action: Hashable, Sendable {
    case up, down, left, right, pageUp, pageDown, top, bottom
    case enter, back
    case expandAll, expandHot, collapseAll
    case view(ViewKind), nextView, previousView
    case sortNext, sortReverse, sortMenu
    case search, searchNext, searchPrevious
    case focus, clearFocus, hide, unhideAll
    case focusSubtree, drop, collapseRecursion, collapseDirectRecursion, collapseModule, undo, cycleMinPercent
    case cycleMetric, toggleThreads, toggleLines
    case help, redraw, quit
    case pause, cycleWindow, summary, source, edit, diffMode
    // The search prompt and overlays.
    case close, cancelSearch, erase, clearQuery
}

public enum KeyScope: Hashable, Sendable {
    case global
    case views(Set<ViewKind>)
    /// While the search query is typed: the prompt takes every key (other characters are typed).
    case prompt
    /// While an overlay is open: keys it does not bind close it (the help passes them on too).
    case overlay(OverlayKind)

    func includes(_ v: ViewKind) -> Bool {
        switch self {
        case .global: true
        case .views(let s): s.contains(v)
        case .prompt, .overlay: false
        }
    }
}

/// One row of the key table: the help screen and the status-bar hints are generated from it.
public struct Binding: Sendable {
    public var keys: [Key]
    public var action: Action
    public var scope: KeyScope
    public var help: String
    /// A short label for the status bar, when the binding is worth a hint there.
    public var hint: String?
}

public enum Keymap {
    static let trees: KeyScope = .views([.tree, .inverted])
    static let lists: KeyScope = .views([.functions, .tree, .inverted, .callers])

    /// The key table. The modal rows (prompt, overlays) are asked first, while their mode is
    /// on; then view-scoped rows, which win over global ones.
    public static let table: [Binding] = [
        // The search prompt
        Binding(keys: [.enter], action: .enter, scope: .prompt, help: "go to the first match", hint: nil),
        Binding(keys: [.esc], action: .cancelSearch, scope: .prompt, help: "cancel the search", hint: nil),
        Binding(keys: [.backspace, .delete], action: .erase, scope: .prompt, help: "erase the last character", hint: nil),
        Binding(keys: [.ctrl("u")], action: .clearQuery, scope: .prompt, help: "clear the query (other keys are typed)", hint: nil),
        Binding(keys: [.ctrl("c")], action: .quit, scope: .prompt, help: "quit", hint: nil),
        // The help
        Binding(keys: [.down, .char("j")], action: .down, scope: .overlay(.help), help: "scroll down", hint: nil),
        Binding(keys: [.up, .char("k")], action: .up, scope: .overlay(.help), help: "scroll up", hint: nil),
        Binding(keys: [.pgDn, .char(" ")], action: .pageDown, scope: .overlay(.help), help: "page down", hint: nil),
        Binding(keys: [.pgUp], action: .pageUp, scope: .overlay(.help), help: "page up", hint: nil),
        Binding(keys: [.esc, .char("q"), .char("?"), .enter], action: .close, scope: .overlay(.help),
                help: "close the help (any other key closes it and acts, as in less)", hint: nil),
        Binding(keys: [.ctrl("c")], action: .quit, scope: .overlay(.help), help: "quit", hint: nil),
        // The source view
        Binding(keys: [.down, .char("j")], action: .down, scope: .overlay(.source), help: "scroll down a line", hint: nil),
        Binding(keys: [.up, .char("k")], action: .up, scope: .overlay(.source), help: "scroll up a line", hint: nil),
        Binding(keys: [.pgDn, .char(" ")], action: .pageDown, scope: .overlay(.source), help: "page down", hint: nil),
        Binding(keys: [.pgUp], action: .pageUp, scope: .overlay(.source), help: "page up", hint: nil),
        Binding(keys: [.char("e")], action: .edit, scope: .overlay(.source), help: "open the file in $EDITOR at the hottest line", hint: nil),
        Binding(keys: [.esc], action: .close, scope: .overlay(.source), help: "close (so does any other key)", hint: nil),
        Binding(keys: [.ctrl("c")], action: .quit, scope: .overlay(.source), help: "quit", hint: nil),
        // The sort menu
        Binding(keys: [.down, .char("j")], action: .down, scope: .overlay(.sortMenu), help: "next column", hint: nil),
        Binding(keys: [.up, .char("k")], action: .up, scope: .overlay(.sortMenu), help: "previous column", hint: nil),
        Binding(keys: [.enter], action: .enter, scope: .overlay(.sortMenu), help: "sort by the chosen column", hint: nil),
        Binding(keys: [.esc], action: .close, scope: .overlay(.sortMenu), help: "close the menu (so does any other key)", hint: nil),
        Binding(keys: [.ctrl("c")], action: .quit, scope: .overlay(.sortMenu), help: "quit", hint: nil),
        // The summary
        Binding(keys: [.esc], action: .close, scope: .overlay(.summary), help: "close the summary (so does any other key)", hint: nil),
        Binding(keys: [.ctrl("c")], action: .quit, scope: .overlay(.summary), help: "quit", hint: nil),
        // Trees
        Binding(keys: [.right, .char("l"), .enter], action: .right, scope: trees, help: "expand the node (or go to its first child)", hint: nil),
        Binding(keys: [.left, .char("h")], action: .left, scope: trees, help: "collapse the node, or go to its parent", hint: nil),
        Binding(keys: [.char("*")], action: .expandAll, scope: trees, help: "expand the whole subtree", hint: "expand all"),
        Binding(keys: [.char("H")], action: .expandHot, scope: trees, help: "expand the hot path from the selected node", hint: "hot path"),
        Binding(keys: [.char("-")], action: .collapseAll, scope: trees, help: "collapse everything", hint: nil),
        // Functions table
        Binding(keys: [.char("s")], action: .sortNext, scope: .views([.functions]), help: "sort by the next column", hint: "sort"),
        Binding(keys: [.char("S")], action: .sortReverse, scope: .views([.functions]), help: "reverse the sort order", hint: nil),
        Binding(keys: [.char("o")], action: .sortMenu, scope: .views([.functions]), help: "choose the sort column from a menu", hint: nil),
        Binding(keys: [.enter], action: .enter, scope: .views([.functions]), help: "show the callers and callees of the function", hint: "callers"),
        // Callers / callees
        Binding(keys: [.enter], action: .enter, scope: .views([.callers]), help: "make the caller or callee the selected function", hint: "select"),
        Binding(keys: [.esc, .backspace], action: .back, scope: .views([.callers]), help: "back to the previous view", hint: nil),
        // Flame graph
        Binding(keys: [.up, .char("k")], action: .up, scope: .views([.flame]), help: "go to the parent frame", hint: nil),
        Binding(keys: [.down, .char("j")], action: .down, scope: .views([.flame]), help: "go to the heaviest child frame", hint: nil),
        Binding(keys: [.left, .char("h")], action: .left, scope: .views([.flame]), help: "go to the previous sibling", hint: nil),
        Binding(keys: [.right, .char("l")], action: .right, scope: .views([.flame]), help: "go to the next sibling", hint: nil),
        Binding(keys: [.enter], action: .enter, scope: .views([.flame]), help: "zoom into the selected frame", hint: "zoom"),
        Binding(keys: [.esc, .backspace], action: .back, scope: .views([.flame]), help: "zoom back out", hint: "unzoom"),
        // Movement
        Binding(keys: [.down, .char("j")], action: .down, scope: lists, help: "move down", hint: nil),
        Binding(keys: [.up, .char("k")], action: .up, scope: lists, help: "move up", hint: nil),
        Binding(keys: [.pgDn, .char(" "), .ctrl("f")], action: .pageDown, scope: .global, help: "page down", hint: nil),
        Binding(keys: [.pgUp, .ctrl("b")], action: .pageUp, scope: .global, help: "page up", hint: nil),
        Binding(keys: [.char("g"), .home], action: .top, scope: .global, help: "go to the first row", hint: nil),
        Binding(keys: [.char("G"), .end], action: .bottom, scope: .global, help: "go to the last row", hint: nil),
        // Views
        Binding(keys: [.char("v")], action: .source, scope: .global, help: "source of the selected function, with samples per line", hint: nil),
        Binding(keys: [.char("e")], action: .edit, scope: .global, help: "open the selected function in $EDITOR (default vi) at its hottest line", hint: nil),
        Binding(keys: [.char("%")], action: .diffMode, scope: .global, help: "diff: compare absolute values / shares of each total", hint: nil),
        Binding(keys: [.char("0")], action: .summary, scope: .global, help: "summary: what kind of slow it is (CPU, I/O, locks, GC, imports, ...)", hint: nil),
        Binding(keys: [.char("1")], action: .view(.functions), scope: .global, help: "functions table", hint: nil),
        Binding(keys: [.char("2")], action: .view(.tree), scope: .global, help: "call tree (top-down)", hint: nil),
        Binding(keys: [.char("3")], action: .view(.callers), scope: .global, help: "callers and callees of the selected function", hint: nil),
        Binding(keys: [.char("4")], action: .view(.inverted), scope: .global, help: "inverted tree (bottom-up)", hint: nil),
        Binding(keys: [.char("5")], action: .view(.flame), scope: .global, help: "flame graph (icicle)", hint: nil),
        Binding(keys: [.tab], action: .nextView, scope: .global, help: "next view", hint: "views"),
        Binding(keys: [.backTab], action: .previousView, scope: .global, help: "previous view", hint: nil),
        // Everywhere
        Binding(keys: [.char("/")], action: .search, scope: .global, help: "search names and files (regex)", hint: "search"),
        Binding(keys: [.char("n")], action: .searchNext, scope: .global, help: "next match", hint: nil),
        Binding(keys: [.char("N")], action: .searchPrevious, scope: .global, help: "previous match", hint: nil),
        // Transforms: each pushes a step on the stack the breadcrumb shows; u undoes the last.
        Binding(keys: [.char("f")], action: .focus, scope: .global, help: "focus: keep only stacks through the selected function", hint: "focus"),
        Binding(keys: [.char("z")], action: .focusSubtree, scope: .global, help: "focus on the selected node's subtree (call tree, flame graph)", hint: nil),
        Binding(keys: [.char("x")], action: .hide, scope: .global, help: "merge the function into its callers (its self time goes to them)", hint: nil),
        Binding(keys: [.char("d")], action: .drop, scope: .global, help: "drop every sample whose stack passes through the function", hint: nil),
        Binding(keys: [.char("r")], action: .collapseRecursion, scope: .global, help: "collapse the function's recursion, direct and indirect (f > g > f becomes f > g)", hint: nil),
        Binding(keys: [.char("R")], action: .collapseDirectRecursion, scope: .global, help: "collapse only direct recursion (f > f > f becomes f)", hint: nil),
        Binding(keys: [.char("C")], action: .collapseModule, scope: .global, help: "collapse the function's library into one frame (stdlib, site-packages, importlib, or its file)", hint: nil),
        Binding(keys: [.char("u"), .backspace], action: .undo, scope: .global, help: "undo the last transform", hint: nil),
        Binding(keys: [.char("F")], action: .clearFocus, scope: .global, help: "undo every transform", hint: nil),
        Binding(keys: [.char("X")], action: .unhideAll, scope: .global, help: "undo every merge (show merged functions again)", hint: nil),
        Binding(keys: [.char("M")], action: .cycleMinPercent, scope: .global, help: "hide rows under 0.5%, 1%, 2%, 5% of the total, or none", hint: nil),
        Binding(keys: [.char("m")], action: .cycleMetric, scope: .global, help: "next metric", hint: nil),
        Binding(keys: [.char("t")], action: .toggleThreads, scope: .global, help: "threads merged / split", hint: nil),
        Binding(keys: [.char("L")], action: .toggleLines, scope: .global, help: "split functions by line / merge lines", hint: nil),
        Binding(keys: [.char("p")], action: .pause, scope: .global, help: "live streams: pause the display / jump back to the present", hint: nil),
        Binding(keys: [.char("w")], action: .cycleWindow, scope: .global, help: "live streams: all samples, or the last 60 s, 10 s, 2 s", hint: nil),
        Binding(keys: [.char("?")], action: .help, scope: .global, help: "this help", hint: "help"),
        Binding(keys: [.ctrl("l")], action: .redraw, scope: .global, help: "redraw the screen", hint: nil),
        Binding(keys: [.char("q"), .ctrl("c")], action: .quit, scope: .global, help: "quit", hint: "quit"),
    ]

    /// The action `key` triggers in `view`, if any.
    public static func action(for key: Key, in view: ViewKind) -> Action? {
        table.first { $0.scope.includes(view) && $0.keys.contains(key) }?.action
    }

    /// The action `key` triggers in a mode (the prompt or an overlay), if it binds the key.
    public static func action(for key: Key, in mode: KeyScope) -> Action? {
        table.first { $0.scope == mode && $0.keys.contains(key) }?.action
    }

    /// Status-bar hints for `view`: (key text, label), generated from the table.
    public static func hints(for view: ViewKind, ascii: Bool) -> [(String, String)] {
        var seen = Set<String>()
        var out: [(String, String)] = []
        // The ways out and the help come first, then what this view adds, then the rest.
        let first: [Action] = [.help, .quit, .search]
        let ordered = table.filter { first.contains($0.action) }.sorted { first.firstIndex(of: $0.action)! < first.firstIndex(of: $1.action)! }
            + table.filter { !first.contains($0.action) }
        for b in ordered where b.scope.includes(view) {
            guard let h = b.hint, !seen.contains(h) else { continue }
            seen.insert(h)
            out.append((ascii ? b.keys[0].asciiDescription : b.keys[0].description, h))
        }
        return out
    }

    /// Help lines generated from the table: sections, then `keys  description` rows.
    /// The current view's section comes first.
    public static func helpLines(ascii: Bool, view: ViewKind? = nil) -> [(keys: String, text: String, heading: Bool)] {
        var out: [(String, String, Bool)] = []
        var sections: [(String, (KeyScope) -> Bool, [ViewKind])] = [
            ("Call tree and inverted tree", { $0 == trees }, [.tree, .inverted]),
            ("Functions table", { $0 == .views([.functions]) }, [.functions]),
            ("Callers / callees", { $0 == .views([.callers]) }, [.callers]),
            ("Flame graph", { $0 == .views([.flame]) }, [.flame]),
            ("Lists and trees", { $0 == lists }, []),
            ("Everywhere", { if case .global = $0 { return true }; return false }, []),
            ("Search prompt (/)", { $0 == .prompt }, []),
            ("Help (?)", { $0 == .overlay(.help) }, []),
            ("Source (v)", { $0 == .overlay(.source) }, []),
            ("Sort menu (o)", { $0 == .overlay(.sortMenu) }, []),
            ("Summary (0)", { $0 == .overlay(.summary) }, []),
        ]
        if let view, let i = sections.firstIndex(where: { $0.2.contains(view) }) { sections.insert(sections.remove(at: i), at: 0) }
        for (title, test, _) in sections {
            let rows = table.filter { test($0.scope) }
            guard !rows.isEmpty else { continue }
            out.append((title, "", true))
            for b in rows {
                let k = b.keys.map { ascii ? $0.asciiDescription : $0.description }.joined(separator: " ")
                out.append((k, b.help, false))
            }
        }
        return out
    }
}
