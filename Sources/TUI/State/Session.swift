import Foundation
import ProfileModel

/// The profiles a viewer session looks at. The loaded profile never changes; the one on screen
/// is derived from it by the state's filters (threads, lines, focus, hidden, metric order) and
/// cached, so a keystroke that changes none of them does no work here.
public final class Session: Deriver {
    public private(set) var base: Profile
    /// Set while a live stream feeds the session (status line: live/paused/ended/error, rate).
    public var live: LiveStatus? = nil
    /// Where the summary looks for source files recorded with relative paths.
    public var sourceRoots: [String] = []
    /// Show file paths as recorded (`--full-paths`) rather than short (`DisplayPath`).
    public var fullPaths = false {
        didSet { pathsCache = nil }
    }
    private var pathsCache: (profile: Same<Profile>, paths: DisplayPath)?
    /// The short forms of the loaded profile's files (stdlib and site-packages module-relative,
    /// the project's common directory left out), made once per loaded profile. Transforms keep
    /// the files, so the loaded profile's prefix serves every derived one.
    public var displayPaths: DisplayPath {
        if let c = pathsCache, c.profile.is(base) { return c.paths }
        let d = DisplayPath(profile: base, enabled: !fullPaths)
        pathsCache = (Same(base), d)
        return d
    }
    /// The summary's classification rules (the user's config, then the built-in table).
    public var triageRules: [Triage.Rule] = Triage.rules
    public let fileName: String
    /// Diff mode (`perftop diff BASE NEW`): the base profile in a session of its own, so it is
    /// derived (threads, lines, focus, hidden) the same way as the profile on screen.
    public private(set) var diffBase: Session?
    public var hasDiffBase: Bool { diffBase != nil }
    /// Whether a diff compares shares of each total unless the user says otherwise.
    public private(set) var diffNormalizedByDefault = false
    /// Verdicts of repeated runs (`perftop diff A... --vs B...`): the views colour only significant changes.
    public private(set) var diffVerdicts: DiffVerdicts?
    public func setDiffVerdicts(_ v: DiffVerdicts) { diffVerdicts = v; diffCache = [] }
    private var baseIds: [Int32: [Int32]] = [:]
    private var diffCache: [(key: DiffKey, diff: ProfileDiff)] = []

    private var cacheKey: DerivedKey?
    private var cached: Profile?
    private var recent: [(key: DerivedKey, profile: Profile)] = []
    /// Each prefix of a transform stack, with why its last step could not be applied (nil: it was).
    private var chain: [(key: ChainKey, profile: Profile, error: String?)] = []
    private var invertedFor = Same<Profile>()
    private var invertedCache: Profile?
    private var rowsKey: RowsKey?
    private var rowsCache: [Int32] = []
    private var matchKey: (profile: Same<Profile>, query: String)?
    private var matchCache = SearchMatches()
    private var topSelfKey: (profile: Same<Profile>, metric: Int)?
    private var topSelfCache: (function: Int32, weight: Double)?
    private var callersKey: (profile: Same<Profile>, function: Int32, normalized: Bool, minPercent: Double?, metric: Int)?
    private var callersCache: CallersModel?
    /// The profile the cached triage is of (weak: a live session's old snapshots may go), and
    /// what else it was made with.
    private weak var triageProfile: Profile?
    private var triageKey: (metric: Int, roots: [String], rules: [Triage.Rule])?
    private var triageCache: Triage?
    private var lookHereCache: [Triage.LookHere]?
    /// Source files read for the source view, by path and the roots they were looked up in
    /// (nil: not found), so that drawing does not read the disk on every frame.
    private var sourceCache: [String: [String]?] = [:]
    private var pathCache: [String: FoundSource?] = [:]
    private var sourceCacheRoots: [String] = []

    /// Reads the file again with one frame per executing line, when the loaded profile had its
    /// lines merged while reading (the fast default). Nil when there is no file to re-read.
    private let reloadWithLines: ((FrameTable) throws -> Profile)?
    private var lineBase: Profile?
    public private(set) var reloadError: String?
    /// Reads the file again with its thread frames (lines split or not), when the loaded profile
    /// had its threads merged while reading (`Profile.mergedThreads`): the viewer opens merged,
    /// and building the tree with threads only to merge it was most of opening a big pprof.
    private let reloadWithThreads: ((_ splitLines: Bool, FrameTable) throws -> Profile)?
    private var threadBase: [Bool: Profile] = [:]
    private var threadsReloadError: String?
    /// The frame table of the latest read: each re-read extends it, so that a frame id means
    /// the same frame in the loaded profile and every re-read.
    private var newestFrames: FrameTable

    public init(profile: Profile, fileName: String, reloadWithLines: ((FrameTable) throws -> Profile)? = nil,
                reloadWithThreads: ((_ splitLines: Bool, FrameTable) throws -> Profile)? = nil) {
        self.base = profile
        self.fileName = fileName
        self.reloadWithLines = reloadWithLines
        self.reloadWithThreads = reloadWithThreads
        self.newestFrames = profile.frames
    }

    /// Makes this a diff session: the views show this profile coloured by its change from `base`.
    /// Shares are compared by default when the units differ or both are sampled with different
    /// sample counts.
    public func setDiffBase(_ base: Session, normalize: Bool?) {
        diffBase = base
        let (b, n) = (base.base, self.base)
        let nm = n.defaultMetric
        let bm = Session.metric(n.metrics[nm], in: b)
        diffNormalizedByDefault = normalize ?? ProfileDiff.normalizesByDefault(base: b, baseMetric: bm, new: n, newMetric: nm)
        baseIds = [:]
        diffCache = []
    }

    public func diffNormalized(_ s: AppState) -> Bool { s.diffNormalize ?? diffNormalizedByDefault }

    /// The base functions that are function `f` of this profile (as the diff matches them).
    func baseFunctions(matching f: Int32) -> [Int32] {
        guard let b = diffBase?.base else { return [] }
        if let ids = baseIds[f] { return ids }
        let ids = ProfileDiff.matching(f, in: base, base: b)
        baseIds[f] = ids
        return ids
    }

    /// The state the base side is derived with: the same filters, on the base's own ids.
    func baseState(for s: AppState) -> AppState {
        var b = s
        guard let bp = diffBase?.base else { return b }
        // The base replays the stack on its own ids. A merge of a function the base never ran
        // merges nothing there; a focus on one (or a drop) keeps what it would keep of the base.
        // A step on frames of this profile (a subtree path, a collapse) is left out of the base.
        var steps: [TransformStep] = []
        for step in s.transforms {
            switch step {
            case .merge(let f): steps += baseFunctions(matching: f).map { .merge($0) }
            case .drop(let f): steps += baseFunctions(matching: f).map { .drop($0) }
            case .focusFunction(let f):
                if let g = baseFunctions(matching: f).first { steps.append(.focusFunction(g)) } else { b.baseFocusMissing = true }
            case .collapseRecursion(let f): steps += f.map { baseFunctions(matching: $0).map { .collapseRecursion($0) } } ?? [step]
            case .collapseDirectRecursion(let f): steps += f.map { baseFunctions(matching: $0).map { .collapseDirectRecursion($0) } } ?? [step]
            case .collapseFrames(let rule): steps.append(.collapseFrames(rule))
            case .focusSubtree: break
            }
        }
        b.transforms = steps
        b.metric = Session.metric(base.metrics[min(s.metric, base.metrics.count - 1)], in: bp)
        return b
    }

    /// The base's metric for one of ours: the same name and unit, else the same name, else
    /// its default.
    static func metric(_ m: ValueType, in p: Profile) -> Int {
        p.metricIndex(named: m.description) ?? p.metricIndex(named: m.name) ?? p.defaultMetric
    }

    struct DiffKey {
        var new: Same<Profile>, base: Same<Profile>, normalized: Bool
        func matches(new n: Profile, base b: Profile, normalized z: Bool) -> Bool { new.is(n) && base.is(b) && normalized == z }
    }

    /// The profile on screen (or its inverted tree) matched with the base, in diff mode.
    public func diff(for s: AppState, inverted: Bool = false) -> ProfileDiff? {
        guard let bs = diffBase else { return nil }
        let bstate = baseState(for: s)
        let np = inverted ? self.inverted(for: s) : profile(for: s)
        let bp = inverted ? bs.inverted(for: bstate) : bs.profile(for: bstate)
        let normalized = diffNormalized(s)
        if let hit = diffCache.first(where: { $0.key.matches(new: np, base: bp, normalized: normalized) }) { return hit.diff }
        let key = DiffKey(new: Same(np), base: Same(bp), normalized: normalized)
        var d = ProfileDiff(base: bp, baseMetric: min(bstate.metric, bp.metrics.count - 1),
                            new: np, newMetric: min(s.metric, np.metrics.count - 1), normalized: key.normalized)
        d.verdicts = diffVerdicts
        if diffCache.count > 8 { diffCache = [] }
        diffCache.append((key, d))
        return d
    }

    /// The base profile as derived for `s` (diff mode).
    public func baseProfile(for s: AppState) -> Profile? { diffBase.map { $0.profile(for: baseState(for: s)) } }

    /// A newer snapshot of a live stream replaces the loaded profile; derived views are rebuilt
    /// on demand. (Snapshots of one stream share their frame table, so ids stay valid.)
    public func replaceBase(_ p: Profile) {
        base = p
        cacheKey = nil
        cached = nil
        recent = []
        chain = []
        invertedFor = Same()
        invertedCache = nil
        rowsKey = nil
        matchKey = nil
        callersKey = nil
        lineBase = nil
        threadBase = [:]
        newestFrames = p.frames
    }

    /// Whether the line-level profile of state `s` is at hand (or could not be had), so that
    /// asking for it reads no file.
    public func linesReady(for s: AppState) -> Bool {
        if !s.threadsMerged, reloadWithThreads != nil { return threadBase[true] != nil || threadsReloadError != nil }
        return reloadWithLines == nil || lineBase != nil || reloadError != nil
    }

    /// Whether state `s` can split threads without reading the file.
    public func threadsReady(for s: AppState) -> Bool {
        !s.threadsMerged || reloadWithThreads == nil || threadBase[s.splitLines] != nil || threadsReloadError != nil
    }

    /// Whether the loaded profile has threads (or had them before its reader merged them).
    public var hasThreads: Bool { base.hasThreads || base.mergedThreads > 0 }

    /// Reads what a key in state `s` may need and the session has not read: the profile with
    /// threads split for `t`, else the line-level profile and the selected function's source
    /// path (the loop's `.read` effect).
    public func read(for s: AppState, key: Key? = nil) {
        // `t`: the profile with its thread frames, and nothing else (another whole read).
        if let key, Keymap.action(for: key, in: s.view) == .toggleThreads, !threadsReady(for: s) {
            var split = s
            split.threadsMerged = false
            _ = source(for: split)
            return
        }
        var split = s
        split.splitLines = true
        _ = source(for: split)
        if let file = recordedFile(s) { _ = sourcePath(file) }
    }

    /// The selected function's source file as recorded, once the line-level profile is at hand.
    private func recordedFile(_ s: AppState) -> String? {
        guard let f = s.selectedFunction, linesReady(for: s) else { return nil }
        let p = lineLevel(for: s)
        guard Int(f) < p.functions.count, let file = p.frames.file(ofFunction: f), !file.isEmpty, !file.hasPrefix("<") else { return nil }
        return file
    }

    /// Whether `e` in state `s` can be answered without reading the disk.
    public func editReady(_ s: AppState) -> Bool {
        linesReady(for: s) && (recordedFile(s).map { file in forRoots { pathCache[file] != nil } } ?? true)
    }

    /// A recorded source file found under the source roots, and whether it is a binary (perf
    /// frames name their DSO as the file), so that `e` decides without touching the disk.
    struct FoundSource: Equatable {
        let path: String
        let binary: Bool
    }

    /// Where a recorded source file is under the source roots (nil: not found); looked up once,
    /// by the loop's `.read` effect before the reducer asks.
    func sourcePath(_ file: String) -> FoundSource? {
        forRoots {
            if let hit = pathCache[file] { return hit }
            let found = Triage.sourcePath(file, roots: sourceRoots).map { FoundSource(path: $0, binary: Self.isBinary($0)) }
            if pathCache.count > 64 { pathCache = [:] }
            pathCache[file] = found
            return found
        }
    }

    /// Runs `body` on the file caches, emptied first if the source roots changed.
    private func forRoots<T>(_ body: () -> T) -> T {
        if sourceCacheRoots != sourceRoots { sourceCache = [:]; pathCache = [:]; sourceCacheRoots = sourceRoots }
        return body()
    }

    /// Takes a newer snapshot of a live stream (the loop's part of adoption), and carries the
    /// state's selection, expansion and zoom over to it.
    public func adopt(_ snapshot: Profile, into s: inout AppState, size: Size) {
        let old = profile(for: s)
        replaceBase(snapshot)
        s.adopted(from: old, deriver: self, size: size)
    }

    /// The profile with one frame per executing line (re-read if lines were merged while
    /// reading), for views that need lines: the summary's hottest line.
    public func lineLevel(for s: AppState) -> Profile {
        var split = s
        split.splitLines = true
        return source(for: split)
    }

    /// Why `L` cannot split functions by line, if it cannot: the file could not be read
    /// again, or every function has one line (formats that record no executing lines).
    public func noLinesReason(_ s: AppState) -> String? {
        let p = lineLevel(for: s)
        if let reloadError { return "cannot split by line: \(reloadError)".terminalSafe }
        var lineOf = [Int32: Int](minimumCapacity: p.functions.count)
        for fr in 0..<p.frames.frameCount {
            let fn = p.frames.frameFunction[fr]
            guard fn >= 0 else { continue }
            let line = p.frames.line(ofFrame: Int32(fr)) ?? -1
            if let l = lineOf[fn], l != line { return nil }
            lineOf[fn] = line
        }
        return "no lines to split: this \(p.format) profile records one line per function"
    }

    /// The loaded profile, or its line-level twin when the state splits lines.
    func source(for s: AppState) -> Profile {
        if !s.threadsMerged, let reload = reloadWithThreads {
            if let p = threadBase[s.splitLines] { return p }
            guard threadsReloadError == nil else { return base }
            do {
                let p = try reload(s.splitLines, newestFrames)
                threadBase[s.splitLines] = p
                newestFrames = p.frames
                return p
            } catch {
                threadsReloadError = "\(error)"
                return base
            }
        }
        guard s.splitLines, let reload = reloadWithLines else { return base }
        if let lineBase { return lineBase }
        do { lineBase = try reload(newestFrames) } catch { reloadError = "\(error)"; return base }
        newestFrames = lineBase!.frames
        return lineBase!
    }

    struct DerivedKey: Equatable {
        var threadsMerged: Bool, splitLines: Bool, transforms: [TransformStep], metric: Int, missing: Bool
    }
    struct ChainKey: Equatable { var threadsMerged: Bool, splitLines: Bool, transforms: [TransformStep] }

    /// The profile the views show for `state`.
    public func profile(for s: AppState) -> Profile {
        let key = DerivedKey(threadsMerged: s.threadsMerged, splitLines: s.splitLines, transforms: s.transforms,
                             metric: s.metric, missing: s.baseFocusMissing)
        if key == cacheKey, let cached { return cached }
        // Recent results stay at hand, so that undoing a step is a lookup (the same profile).
        if let hit = recent.first(where: { $0.key == key }) {
            cacheKey = key
            cached = hit.profile
            invertedFor = Same()
            invertedCache = nil
            rowsKey = nil
            return hit.profile
        }
        var p = transformed(s)
        if s.baseFocusMissing { p = p.focused(on: Int32.min) }
        p = p.ordered(by: s.metric)
        cacheKey = key
        cached = p
        recent.removeAll { $0.key == key }
        recent.append((key, p))
        if recent.count > 8 { recent.removeFirst() }
        invertedFor = Same()
        invertedCache = nil
        rowsKey = nil
        return p
    }

    /// The loaded profile with the state's threads and lines merged (or not), before any step.
    func untransformed(for s: AppState) -> Profile {
        transformChain(s, upTo: 0)
    }

    /// The profile after the first `n` steps of the state's stack (each prefix is kept, so that
    /// pushing a step applies one step and undoing one applies none). A step that fails (a bad
    /// regular expression, a path that is gone) is skipped and its error kept for the status line.
    func transformChain(_ s: AppState, upTo n: Int) -> Profile { chainStep(s, upTo: n).profile }

    /// `transformChain`'s entry: the profile after `n` steps, and why the n-th could not apply.
    private func chainStep(_ s: AppState, upTo n: Int) -> (profile: Profile, error: String?) {
        let steps = Array(s.transforms.prefix(n))
        let key = ChainKey(threadsMerged: s.threadsMerged, splitLines: s.splitLines, transforms: steps)
        if let hit = chain.first(where: { $0.key == key }) { return (hit.profile, hit.error) }
        let p: Profile
        var failure: String? = nil
        if n == 0 {
            p = source(for: s).merging(threads: s.threadsMerged, lines: !s.splitLines)
        } else {
            let before = transformChain(s, upTo: n - 1)
            do { p = try before.applying(steps[n - 1]) } catch {
                failure = "\(steps[n - 1].label(in: before)): \(error)".terminalSafe
                p = before
            }
        }
        // Keep the prefixes of the current stack and a few others (the previous threads/lines).
        if chain.count > 12 { chain.removeAll { !s.transforms.starts(with: $0.key.transforms) } }
        chain.append((key, p, failure))
        return (p, failure)
    }

    /// Why the top step of the state's stack could not be applied, if it could not (the step
    /// stays on the stack, skipped, so that `u` takes it off as it would any other).
    public func transformFailure(for s: AppState) -> String? {
        s.transforms.isEmpty ? nil : chainStep(s, upTo: s.transforms.count).error
    }

    private func transformed(_ s: AppState) -> Profile { transformChain(s, upTo: s.transforms.count) }

    /// The breadcrumb: each step's label, named in the profile it was applied to.
    func breadcrumb(for s: AppState) -> [String] {
        s.transforms.indices.map { i in s.transforms[i].label(in: transformChain(s, upTo: i)).terminalSafe }
    }

    /// The summary's classification of `p` (a profile of this session), with this session's
    /// source roots and the given rules. Cached: the overlay draws again on every redraw (each
    /// live snapshot), and classifying a big tree is a pass over all its nodes.
    public func triage(of p: Profile, metric m: Int, rules: [Triage.Rule]) -> Triage {
        if triageProfile === p, let k = triageKey, k.metric == m, k.roots == sourceRoots, k.rules == rules, let triageCache {
            return triageCache
        }
        let t = Triage(p, metric: m, sourceRoots: sourceRoots, rules: rules)
        triageProfile = p
        triageKey = (m, sourceRoots, rules)
        triageCache = t
        lookHereCache = nil
        return t
    }

    /// The summary's "look here first" for the triage `triage(of:metric:rules:)` returned
    /// last: it reads the source line, so it is made once, not on every frame.
    public func lookHere(_ t: Triage, in p: Profile, metric m: Int) -> [Triage.LookHere] {
        let current = triageProfile === p && triageKey?.metric == m && triageKey?.roots == sourceRoots
        if current, let lookHereCache { return lookHereCache }
        let look = t.lookHere(p, metric: m, sourceRoots: sourceRoots)
        if current { lookHereCache = look }
        return look
    }

    /// The lines of a source file recorded as `file`, looked up in the source roots; read once.
    public func sourceLines(_ file: String) -> [String]? {
        forRoots {
            if let hit = sourceCache[file] { return hit }
            let lines = Triage.sourceLines(file, roots: sourceRoots)
            if sourceCache.count > 64 { sourceCache = [:] }
            sourceCache[file] = lines
            return lines
        }
    }

    /// The function with the most self time in `p` (the lowest id among equals, as the report's
    /// `--sort self` breaks ties), from its function table; nil when none has any. Cached per profile.
    func topSelf(in p: Profile, metric m: Int) -> (function: Int32, weight: Double)? {
        if let k = topSelfKey, k.profile.is(p), k.metric == m { return topSelfCache }
        let sw = p.functions.selfWeight[m]
        var best: Int32 = -1
        for f in 0..<sw.count where sw[f] > 0 && (best < 0 || sw[f] > sw[Int(best)]) { best = Int32(f) }
        topSelfCache = best < 0 ? nil : (best, sw[Int(best)])
        topSelfKey = (Same(p), m)
        return topSelfCache
    }

    /// The bottom-up profile of `profile(for:)`.
    public func inverted(for s: AppState) -> Profile {
        let p = profile(for: s)
        if invertedFor.is(p), let invertedCache { return invertedCache }
        let inv = p.inverted().ordered(by: s.metric)
        invertedFor = Same(p)
        invertedCache = inv
        return inv
    }

    struct RowsKey: Equatable {
        var profile: Same<Profile>; var metric: Int; var sort: SortKey; var descending: Bool; var normalized: Bool
        var minPercent: Double?
    }

    /// Function ids in table order (functions with no weight and no calls are left out). In
    /// diff mode, functions found only in the base follow as `-2 - baseId` (see `goneId`).
    public func functionRows(for s: AppState) -> [Int32] {
        let p = profile(for: s)
        let key = RowsKey(profile: Same(p), metric: s.metric, sort: s.sort, descending: s.sortDescending,
                          normalized: diffNormalized(s), minPercent: s.minPercent)
        if key == rowsKey { return rowsCache }
        if let d = diff(for: s) {
            rowsCache = diffRows(p, d, s)
            rowsKey = key
            return rowsCache
        }
        let ft = p.functions
        let m = min(s.metric, p.metrics.count - 1)
        var ids: [Int32] = []
        ids.reserveCapacity(ft.count)
        // The minimum-percent filter keeps the functions whose total reaches it.
        let floor = s.minPercent.map { p.total(metric: m) * $0 / 100 } ?? -Double.infinity
        for f in 0..<ft.count {
            let c = ft.calls.map { $0[f] } ?? 0
            guard ft.totalWeight[m][f] >= floor else { continue }
            if ft.selfWeight[m][f] != 0 || ft.totalWeight[m][f] != 0 || c > 0 { ids.append(Int32(f)) }
        }
        let sw = ft.selfWeight[m], tw = ft.totalWeight[m]
        let calls = ft.calls
        let names = ids.reduce(into: [Int32: String]()) { d, f in if s.sort == .name { d[f] = p.frames.name(ofFunction: f) } }
        func less(_ a: Int32, _ b: Int32) -> Bool {
            let (x, y) = (Int(a), Int(b))
            switch s.sort {
            case .total: if tw[x] != tw[y] { return tw[x] < tw[y] }
            case .self: if sw[x] != sw[y] { return sw[x] < sw[y] }
            case .calls:
                let cx = calls?[x] ?? 0, cy = calls?[y] ?? 0
                if cx != cy { return cx < cy }
            case .name:
                // Ascending (▲) is A→Z, as `perftop report --sort name` lists them; then by
                // file, as the report breaks ties.
                let nx = names[a] ?? "", ny = names[b] ?? ""
                if nx != ny { return nx < ny }
                let fx = p.frames.file(ofFunction: a) ?? "", fy = p.frames.file(ofFunction: b) ?? ""
                if fx != fy { return fx < fy }
                return a < b
            }
            return a > b
        }
        ids.sort { s.sortDescending ? less($1, $0) : less($0, $1) }
        rowsKey = key
        rowsCache = ids
        return ids
    }

    /// The columns the table can be sorted by: not calls when the format records none (the
    /// order would be arbitrary).
    public func sortKeys(for s: AppState) -> [SortKey] {
        profile(for: s).functions.calls == nil ? SortKey.allCases.filter { $0 != .calls } : SortKey.allCases
    }

    /// The base function id of a diff row that is only in the base.
    public static func goneId(_ row: Int32) -> Int32? { row <= -2 ? -2 - row : nil }

    /// Diff rows, largest regression first: by the change in self (sort self, calls), in total
    /// (sort total), or by name.
    private func diffRows(_ p: Profile, _ d: ProfileDiff, _ s: AppState) -> [Int32] {
        let m = min(s.metric, p.metrics.count - 1)
        let ft = p.functions
        let byTotal = s.sort == .total
        // With verdicts from repeated runs, the significant changes come first, largest first,
        // so a fix is not buried under rows that moved within the noise.
        let verdicts = diffVerdicts
        func significant(_ q: Profile, _ f: Int32) -> Bool {
            verdicts?.verdict(name: q.frames.name(ofFunction: f), file: q.frames.file(ofFunction: f))?.isSignificant ?? false
        }
        var rows: [(Int32, Double, String, Bool)] = []
        for f in 0..<ft.count {
            let n = byTotal ? ft.totalWeight[m][f] : ft.selfWeight[m][f]
            let b = byTotal ? d.functionBaseTotal[f] : d.functionBaseSelf[f]
            guard n != 0 || b != 0 || ft.totalWeight[m][f] != 0 || d.functionBaseTotal[f] != 0 else { continue }
            rows.append((Int32(f), d.delta(new: n, base: b), s.sort == .name ? p.frames.name(ofFunction: Int32(f)) : "",
                         significant(p, Int32(f))))
        }
        if let bp = baseProfile(for: s) {
            let bm = min(baseState(for: s).metric, bp.metrics.count - 1)
            for g in d.gone {
                let b = byTotal ? bp.functions.totalWeight[bm][Int(g)] : bp.functions.selfWeight[bm][Int(g)]
                rows.append((-2 - g, d.delta(new: 0, base: b), s.sort == .name ? bp.frames.name(ofFunction: g) : "",
                             significant(bp, g)))
            }
        }
        rows.sort { a, b in
            if a.3 != b.3 { return a.3 }
            if a.3, abs(a.1) != abs(b.1) { return abs(a.1) > abs(b.1) }
            if s.sort == .name, a.2 != b.2 { return s.sortDescending ? a.2 > b.2 : a.2 < b.2 }
            if a.1 != b.1 { return s.sortDescending ? a.1 > b.1 : a.1 < b.1 }
            return a.0 < b.0
        }
        return rows.map(\.0)
    }

    /// Functions whose name or file matches the search, with why the query was taken as
    /// plain text if it was (cached for the last query and profile).
    public func matches(_ query: String, in p: Profile) -> SearchMatches {
        if let k = matchKey, k.profile.is(p), k.query == query { return matchCache }
        let found = Session.functions(matching: query, in: p)
        matchKey = (Same(p), query)
        matchCache = found
        return found
    }

    /// The one place the viewer matches functions: the model's smart-case search, where an
    /// invalid pattern matches as plain text.
    static func functions(matching query: String, in p: Profile) -> SearchMatches {
        guard !query.isEmpty else { return SearchMatches() }
        var asText = false
        var out = SearchMatches()
        out.functions = p.functions(matching: query, asText: &asText)
        if asText { out.error = "not a regular expression; matching as text" }
        return out
    }

    public func cachedCallers(_ f: Int32, _ p: Profile, state s: AppState) -> CallersModel {
        if let k = callersKey, k.profile.is(p), k.function == f, k.normalized == diffNormalized(s), k.minPercent == s.minPercent,
           k.metric == s.metric, let c = callersCache { return c }
        var diff: (ProfileDiff, Profile, Int)? = nil
        if let d = self.diff(for: s), let bp = baseProfile(for: s) {
            diff = (d, bp, min(baseState(for: s).metric, bp.metrics.count - 1))
        }
        let m = callersModel(for: f, in: p, diff: diff, minPercent: s.minPercent, metric: s.metric)
        callersKey = (Same(p), f, diffNormalized(s), s.minPercent, s.metric)
        callersCache = m
        return m
    }
}

/// What a search found: the matching functions, and why the query was not taken as a
/// regular expression, if it was not. One value, so the error always belongs to these matches.
public struct SearchMatches: Equatable, Sendable {
    public var functions: Set<Int32> = []
    public var error: String? = nil
    public var count: Int { functions.count }
    public var isEmpty: Bool { functions.isEmpty }
    public func contains(_ f: Int32) -> Bool { functions.contains(f) }
}

/// A cache key for an object the cache does not keep alive. It matches that object only: not
/// one allocated later at the same address (an `ObjectIdentifier` would), since a dead object
/// leaves the reference nil.
struct Same<T: AnyObject>: Equatable {
    weak var object: T?
    init(_ object: T? = nil) { self.object = object }
    func `is`(_ other: T) -> Bool { object === other }
    static func == (a: Same, b: Same) -> Bool { a.object != nil && a.object === b.object }
}
