import ProfileModel

public enum ViewKind: Int, CaseIterable, Sendable {
    case functions = 1, tree, callers, inverted, flame

    public var title: String {
        switch self {
        case .functions: "Functions"
        case .tree: "Call tree"
        case .callers: "Callers/callees"
        case .inverted: "Inverted"
        case .flame: "Flame"
        }
    }
}

/// Selection, scroll position and expanded nodes of one tree view. Node ids belong to the
/// profile the view showed; when that profile is rebuilt, they are carried over by frame path.
public struct TreeState: Equatable, Sendable {
    public var selected: Int32 = -1
    public var top: Int32 = -1
    public var expanded: Set<Int32> = []
    public var opened = false
}

public struct FlameState: Equatable, Sendable {
    public var selected: Int32 = -1
    /// Zoomed-into nodes, innermost last; the flame graph is drawn from the last one.
    public var zoom: [Int32] = []
    /// The first depth shown (scrolls when the stack is deeper than the screen).
    public var topDepth = 0
}

public enum Overlay: Equatable, Sendable {
    case help(scroll: Int)
    /// What kind of slow it is (`perftop report --summary` on the shown profile).
    case summary
    /// The selected function's source with samples per line; `top` is the first line shown
    /// (nil: centre on the hottest line).
    case source(top: Int?)
    case sortMenu(index: Int)

    public var kind: OverlayKind {
        switch self {
        case .help: .help
        case .summary: .summary
        case .source: .source
        case .sortMenu: .sortMenu
        }
    }
}

/// Which overlay is open, for the key table.
public enum OverlayKind: Hashable, Sendable { case help, summary, source, sortMenu }

/// Everything the viewer shows, as a value. Only `apply(_:)` (Reducer.swift) changes it, and
/// drawing only reads it.
public struct AppState: Equatable, Sendable {
    public var view: ViewKind = .tree
    public var previousView: ViewKind = .functions
    // What the views are derived from.
    public var metric: Int
    public var threadsMerged = true
    public var splitLines = false
    /// The transform stack (focus, merge, drop, collapse recursion or a library, ...), replayed in
    /// order on the loaded profile; each step's ids are those of the profile before it.
    public var transforms: [TransformStep] = []
    /// What the screen looked like before each step of `transforms`, so undo gives it back (nil
    /// once a step before it was taken out: its node ids belong to a profile no longer shown).
    public var undoMemos: [ViewMemo?] = []
    /// Tree, inverted and callers rows under this share of the total are hidden (nil: none).
    public var minPercent: Double? = nil
    /// The function the last focus step kept (for the heading and the diff's base).
    public var focus: Int32? {
        for step in transforms.reversed() { if case .focusFunction(let f) = step { return f } }
        return nil
    }
    /// Whether the stack focuses (on a function or a subtree): the tree's root is then the focus.
    var hasFocusStep: Bool {
        transforms.contains { switch $0 { case .focusFunction, .focusSubtree: true; default: false } }
    }
    /// The merged (hidden) functions of the stack.
    public var hidden: Set<Int32> {
        Set(transforms.compactMap { if case .merge(let f) = $0 { return f }; return nil })
    }
    // Functions table.
    public var sort: SortKey = .total
    public var sortDescending = true
    public var fnSelected = 0
    public var fnTop = 0
    /// Whether the functions table has been shown: it first opens at the top of its sort.
    public var fnOpened = false
    /// The function the user is looking at, shared by all views.
    public var selectedFunction: Int32? = nil
    public var tree = TreeState()
    public var inverted = TreeState()
    public var callersSelected = 0
    public var callersTop = 0
    public var flame = FlameState()
    // Search: the query, whether it is being typed, and the match count for the status line.
    public var query = ""
    public var searching = false
    public var overlay: Overlay? = nil
    public var message: String? = nil
    public var quit = false
    /// Live streams: keep showing the current snapshot while ingestion goes on.
    public var paused = false
    /// Until the user presses a key, each live snapshot re-opens the tree on its hot path (the
    /// first samples are often start-up code); after that, what they look at stays put.
    public var followHotPath = true
    /// Live streams: show only the last N seconds (nil: all samples).
    public var window: Int? = nil
    /// Diff mode: compare shares of each total (true) or absolute values (false); nil takes
    /// the session's default.
    public var diffNormalize: Bool? = nil
    /// Diff mode, the base's state only: the focus is on a function the base never ran, so the
    /// base keeps nothing.
    var baseFocusMissing = false
    /// Set by `e` until `reduce` hands it to the loop as an `.openEditor` effect.
    var editRequest: EditTarget? = nil
    /// Set when a key needs what the session has not read yet, until `reduce` hands the key
    /// back as a `.read` effect.
    var readRequest = false

    public init(metric: Int) { self.metric = metric }
}

/// The part of the state a transform changes (selections, scroll positions, expansions): kept
/// when a step is pushed, so that undoing it returns exactly the screen before.
public struct ViewMemo: Equatable, Sendable {
    var tree: TreeState, inverted: TreeState, flame: FlameState
    var fnSelected: Int, fnTop: Int, fnOpened: Bool
    var callersSelected: Int, callersTop: Int
    var selectedFunction: Int32?
}

/// A file and line for `$EDITOR`.
public struct EditTarget: Equatable, Sendable {
    public var path: String
    public var line: Int?
    /// Whether the file exists where the editor will look (otherwise it opens an empty buffer).
    public var exists: Bool
}

extension AppState {
    /// Where things go on a screen of `size` in this state.
    func layout(_ size: Size) -> Layout { Layout(size: size, breadcrumb: !transforms.isEmpty) }
}

public struct Size: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) { self.width = max(1, width); self.height = max(1, height) }
}

/// Where things go on the screen. Shared by drawing and by the reducer (page sizes).
struct Layout {
    let size: Size
    /// Whether row 1 shows the transform stack (the breadcrumb), pushing the rest down a row.
    var breadcrumb = false
    /// Row 0: title and view tabs. Row 1: the breadcrumb, if any. Then column headings, the
    /// body, the detail and status lines.
    var breadcrumbRow: Int { 1 }
    var headingRow: Int { breadcrumb ? 2 : 1 }
    var bodyTop: Int { headingRow + 1 }
    var bodyHeight: Int { max(1, size.height - bodyTop - 2) }
    var detailRow: Int { size.height - 2 }
    var statusRow: Int { size.height - 1 }
}
