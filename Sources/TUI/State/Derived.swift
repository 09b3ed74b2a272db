import ProfileModel

/// What one frame shows that is derived from the profiles, as immutable values. The session
/// (the deriver: it owns the reloads, the source files and the caches) makes it for a state,
/// and `Screen.render` reads only it, so drawing reads no file and derives nothing.
/// Each value is made only when the state shows it (the inverted tree in the inverted view,
/// the summary with its overlay, ...).
public struct Derived {
    let fileName: String
    /// Diff mode: the base's file name.
    let baseFileName: String?
    let live: LiveStatus?
    /// The profile on screen.
    let profile: Profile
    /// Its bottom-up tree, in the inverted view.
    let inverted: Profile?
    /// Diff mode: the profile on screen matched with the base, and (in the inverted view) its
    /// inverted tree matched with the base's.
    let diff: ProfileDiff?
    let invertedDiff: ProfileDiff?
    let baseProfile: Profile?
    /// The base's metric for the state's (diff mode).
    let baseMetric: Int
    /// The functions table's rows, in the functions view.
    let rows: [Int32]
    /// The callers/callees of the selected function, in that view.
    let callers: CallersModel?
    /// What the search matches in the view's profile.
    let matches: SearchMatches
    let sortKeys: [SortKey]
    let summary: Summary?
    let source: Source?
    /// The function with the most self time in the profile on screen, and that self time: the
    /// tree's "top self" callout (nil in diff mode, where the answer is a change, and when no
    /// function has self time).
    let topSelf: (function: Int32, weight: Double)?
    /// Short file names for the rows (the detail line keeps the full path).
    let paths: DisplayPath
    /// The transform stack's labels, in order (empty: no transform).
    let breadcrumb: [String]
    /// With a transform on: the total of the profile before any step, for "% of whole".
    let wholeTotal: Double?

    /// The summary overlay: the line-level profile's classification (and the base's, in diff
    /// mode) and its "look here first".
    struct Summary {
        let profile: Profile
        let metric: Int
        let triage: Triage
        let before: Triage?
        let lookHere: [Triage.LookHere]
    }

    /// The source overlay: the selected function's samples per line, its file's lines (nil:
    /// not found) and the first line shown when the state has not scrolled.
    struct Source {
        let profile: Profile
        let function: Int32
        let weights: [Int: Double]
        let lines: [String]?
        let top: Int
    }

    /// `file:line` for a row, with the file in its short form.
    func location(file: String?, line: Int?) -> String {
        Report.location(file: file.map(paths.short), line: line)
    }

    /// The profile the search runs in: the inverted tree in the inverted view.
    var searchProfile: Profile { inverted ?? profile }
}

extension Session {
    /// Derives what `s` shows on a screen of `size`, from the caches where it can.
    public func derive(_ s: AppState, size: Size) -> Derived {
        let p = profile(for: s)
        let inv = s.view == .inverted ? inverted(for: s) : nil
        let d = diff(for: s)
        let bp = baseProfile(for: s)
        return Derived(
            fileName: fileName,
            baseFileName: diffBase?.fileName,
            live: live,
            profile: p,
            inverted: inv,
            diff: d,
            invertedDiff: inv == nil ? nil : diff(for: s, inverted: true),
            baseProfile: bp,
            baseMetric: bp.map { min(baseState(for: s).metric, $0.metrics.count - 1) } ?? 0,
            rows: s.view == .functions ? functionRows(for: s) : [],
            callers: s.view == .callers ? s.callersModel(deriver: self) : nil,
            matches: s.query.isEmpty ? SearchMatches() : matches(s.query, in: inv ?? p),
            sortKeys: sortKeys(for: s),
            summary: s.overlay == .summary ? summary(s, metric: min(s.metric, p.metrics.count - 1)) : nil,
            source: s.overlay?.kind == .source ? source(s, size: size) : nil,
            topSelf: d == nil ? topSelf(in: p, metric: min(s.metric, p.metrics.count - 1)) : nil,
            paths: displayPaths,
            breadcrumb: breadcrumb(for: s),
            wholeTotal: s.transforms.isEmpty ? nil : untransformed(for: s).total(metric: min(s.metric, p.metrics.count - 1)))
    }

    private func summary(_ s: AppState, metric: Int) -> Derived.Summary {
        let p = lineLevel(for: s)
        let m = min(metric, p.metrics.count - 1)
        let t = triage(of: p, metric: m, rules: triageRules)
        var before: Triage? = nil
        if let bs = diffBase {
            let bstate = baseState(for: s)
            let bp = bs.lineLevel(for: bstate)
            before = bs.triage(of: bp, metric: min(bstate.metric, bp.metrics.count - 1), rules: triageRules)
        }
        return Derived.Summary(profile: p, metric: m, triage: t, before: before, lookHere: lookHere(t, in: p, metric: m))
    }

    private func source(_ s: AppState, size: Size) -> Derived.Source? {
        guard let (p, f, weights) = lineWeights(s) else { return nil }
        let file = p.frames.file(ofFunction: f) ?? ""
        // The overlay's body: the screen less the title, status and the overlay's own title.
        let bodyHeight = max(1, size.height - 2) - 1
        return Derived.Source(profile: p, function: f, weights: weights, lines: file.isEmpty ? nil : sourceLines(file),
                              top: sourceTop(s, height: bodyHeight))
    }
}
