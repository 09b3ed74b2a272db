import ProfileModel

/// What the reducer may ask while it handles a key: values derived for a state, from the
/// deriver's caches. Nothing here reads the disk or changes what a later question answers
/// (what needs the disk is the `.read` effect, carried out by the loop), so the reducer stays a
/// function of the state, the key and these answers. `Session` is the one deriver; the
/// reducer does not see its caches, its I/O or live adoption.
public protocol Deriver: AnyObject {
    /// The loaded profile (a live session's latest snapshot).
    var base: Profile { get }
    var live: LiveStatus? { get }
    /// Diff mode: a base to compare with is open.
    var hasDiffBase: Bool { get }
    /// Verdicts of repeated runs (`perftop diff A... --vs B...`).
    var diffVerdicts: DiffVerdicts? { get }
    /// The line-level profile of the state is at hand (or its error is), so line keys need no `.read`.
    func linesReady(for s: AppState) -> Bool
    /// The state's profile with threads split is at hand (or its error is), so `t` needs no `.read`.
    func threadsReady(for s: AppState) -> Bool
    /// The loaded profile has threads (or had, before its reader merged them).
    var hasThreads: Bool { get }

    /// The profile the views show for the state, and its bottom-up tree.
    func profile(for s: AppState) -> Profile
    func inverted(for s: AppState) -> Profile
    /// Diff mode: the base profile derived as the state derives the profile on screen.
    func baseProfile(for s: AppState) -> Profile?
    func functionRows(for s: AppState) -> [Int32]
    func sortKeys(for s: AppState) -> [SortKey]
    func matches(_ query: String, in p: Profile) -> SearchMatches
    func diffNormalized(_ s: AppState) -> Bool
    func cachedCallers(_ f: Int32, _ p: Profile, state s: AppState) -> CallersModel
    /// The first transform step of the state's stack that could not be applied, and why.
    func transformFailure(for s: AppState) -> String?

    /// Whether `e` can be answered without reading the disk, and what it opens.
    func editReady(_ s: AppState) -> Bool
    func editTarget(_ s: AppState, function f: Int32) -> EditLookup
    /// Why `L` cannot split functions by line, if it cannot.
    func noLinesReason(_ s: AppState) -> String?
    /// The source overlay's first line when the state has not scrolled it.
    func sourceTop(_ s: AppState, height: Int) -> Int
}

/// What `e` finds for a function: no recorded file, a binary (an executable or library,
/// as perf frames name their DSO), or the file to open.
public enum EditLookup: Equatable {
    case noSource
    case binary(file: String)
    case target(EditTarget)
}
