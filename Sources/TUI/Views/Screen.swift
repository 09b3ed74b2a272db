import Foundation
import ProfileModel

/// Drawing: a pure function from (state, derived values, size, options, clock) to a grid of
/// cells. The clock (seconds since 1970) is only read for a live stream's elapsed time;
/// passing it makes a frame reproducible.
public enum Screen {
    /// Derives what `s` shows from the session, then draws it.
    public static func render(_ s: AppState, session: Session, size: Size, options: RenderOptions,
                              now: Double = Date().timeIntervalSince1970) -> CellGrid {
        render(s, derived: session.derive(s, size: size), size: size, options: options, now: now)
    }

    public static func render(_ s: AppState, derived: Derived, size: Size, options: RenderOptions, now: Double) -> CellGrid {
        var g = CellGrid(width: size.width, height: size.height)
        let p = derived.profile
        let layout = s.layout(size)
        var ctx = DrawContext(state: s, derived: derived, layout: layout, options: options)
        ctx.now = now
        drawTitle(&g, ctx)
        drawBreadcrumb(&g, ctx)
        if size.height >= 5 && size.width < minimumViewWidth {
            // Too narrow for any view's columns and names: say so instead of drawing garbage.
            let lines = wrap("Too narrow: the views need \(minimumViewWidth) columns (this is \(size.width)).",
                             width: size.width - 1)
            for (i, l) in lines.prefix(layout.bodyHeight).enumerated() { g.put(l, x: 0, y: layout.bodyTop + i, role: .error) }
        } else if size.height >= 5 {
            switch s.view {
            case .functions: FunctionsView.draw(&g, &ctx)
            case .tree: TreeView.draw(&g, &ctx, state: s.tree, profile: p, inverted: false)
            case .inverted: TreeView.draw(&g, &ctx, state: s.inverted, profile: derived.inverted ?? p, inverted: true)
            case .callers: CallersView.draw(&g, &ctx)
            case .flame: FlameView.draw(&g, &ctx)
            }
        }
        drawDetail(&g, ctx)
        drawStatus(&g, ctx)
        if let o = s.overlay { drawOverlay(&g, o, ctx) }
        return g
    }

    /// Below this width no view has room for its numbers and a name.
    static let minimumViewWidth = 24

    /// `text` broken into lines at most `width` columns wide, at spaces where it can be
    /// (a word longer than the line is cut into pieces; nothing is dropped).
    static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = [], line = "", lineWidth = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            var word = word
            var ww = DisplayWidth.width(word)
            if lineWidth > 0 && lineWidth + 1 + ww > width { out.append(line); line = ""; lineWidth = 0 }
            while ww > width {
                var piece = "", pw = 0
                for ch in word {
                    let cw = DisplayWidth.width(String(ch))
                    if pw + cw > width { break }
                    piece.append(ch); pw += cw
                }
                if piece.isEmpty { break }
                out.append(piece)
                word.removeFirst(piece.count)
                ww = DisplayWidth.width(word)
            }
            if lineWidth > 0 { line += " "; lineWidth += 1 }
            line += word; lineWidth += ww
        }
        if !line.isEmpty || out.isEmpty { out.append(line) }
        return out
    }

    /// Row 0: the program, the file and the view tabs. The tabs shrink as the terminal narrows
    /// (full titles, short ones, then digits with only the current view named, then digits), so
    /// that the file name keeps some room and the tabs never run off the left edge.
    static func drawTitle(_ g: inout CellGrid, _ c: DrawContext) {
        g.fill(x: 0, y: 0, count: g.width, role: .status)
        let tabs = titleTabs(width: g.width, current: c.state.view)
        let tabsWidth = tabs.reduce(0) { $0 + DisplayWidth.width($1.0) + 1 }
        let arrow = c.options.ascii ? " -> " : " → "
        let left = "perftop " + (c.derived.baseFileName.map { $0 + arrow } ?? "") + c.derived.fileName
        let room = max(0, g.width - tabsWidth - 1)
        g.put(DisplayWidth.truncate(left, to: room, ascii: c.options.ascii), x: 0, y: 0, role: .status)
        var x = max(0, g.width - tabsWidth)
        for (t, on) in tabs {
            x = g.put(t, x: x, y: 0, role: on ? .selection : .status)
            x += 1
        }
    }

    /// The view tabs for a title row `width` wide: the widest form that leaves the file name a
    /// third of the row (at most 16 columns).
    static func titleTabs(width: Int, current: ViewKind) -> [(String, Bool)] {
        let short = ["Fn", "Tree", "Callers", "Inverted", "Flame"]
        let forms: [(ViewKind) -> String] = [
            { "\($0.rawValue) \($0.title)" },
            { "\($0.rawValue) \(short[$0.rawValue - 1])" },
            { $0 == current ? "\($0.rawValue) \(short[$0.rawValue - 1])" : "\($0.rawValue)" },
            { "\($0.rawValue)" },
        ]
        let keep = min(16, width / 3)
        // Full titles only on wide terminals, as before: short ones read better at 80 columns.
        for (i, form) in forms.enumerated() where i > 0 || width >= 100 {
            let tabs = ViewKind.allCases.map { (form($0), $0 == current) }
            if tabs.reduce(0, { $0 + DisplayWidth.width($1.0) + 1 }) + keep <= width || i == forms.count - 1 { return tabs }
        }
        return []
    }

    /// Row 1 while transforms are on: the stack, oldest first ("focus: run_batch › collapse
    /// recursion › merge: deepcopy"); when it does not fit, the oldest steps give way.
    static func drawBreadcrumb(_ g: inout CellGrid, _ c: DrawContext) {
        guard c.layout.breadcrumb, !c.derived.breadcrumb.isEmpty else { return }
        let y = c.layout.breadcrumbRow
        g.fill(x: 0, y: y, count: g.width, role: .normal)
        let sep = c.options.ascii ? " > " : " › "
        let tail = "   u undoes"
        var steps = c.derived.breadcrumb
        var text = steps.joined(separator: sep)
        let room = g.width - 1 - DisplayWidth.width(tail)
        var cut = false
        while steps.count > 1 && DisplayWidth.width((cut ? (c.options.ascii ? "~" : "…") + sep : "") + text) > room {
            steps.removeFirst()
            cut = true
            text = steps.joined(separator: sep)
        }
        if cut { text = (c.options.ascii ? "~" : "…") + sep + text }
        let x = g.put(DisplayWidth.truncate(text, to: room, ascii: c.options.ascii), x: 0, y: y, role: .title)
        g.put(tail, x: x, y: y, role: .dim)
    }

    /// The line above the status bar: everything about the selection.
    static func drawDetail(_ g: inout CellGrid, _ c: DrawContext) {
        let y = c.layout.detailRow
        guard y > 1 else { return }
        g.fill(x: 0, y: y, count: g.width, role: .normal)
        g.put(detailText(c.detail, width: g.width, ascii: c.options.ascii), x: 0, y: y, role: .header)
    }

    /// The detail line in `width` columns. When it does not fit, the location is shortened
    /// from the left and then dropped, then the name is cut, and only then are facts dropped,
    /// whole and from the end: a number is never cut.
    static func detailText(_ d: Detail, width: Int, ascii: Bool) -> String {
        let full = d.text
        if DisplayWidth.width(full) <= width || d.facts.isEmpty { return DisplayWidth.truncate(full, to: width, ascii: ascii) }
        var facts = d.facts.components(separatedBy: "  ")
        let nameRoom = min(12, DisplayWidth.width(d.name))
        while facts.count > 1 && DisplayWidth.width(facts.joined(separator: "  ")) + 2 + nameRoom > width { facts.removeLast() }
        let tail = facts.joined(separator: "  ")
        let room = width - DisplayWidth.width(tail) - 2
        guard room >= nameRoom else { return DisplayWidth.truncate(d.name + "  " + tail, to: width, ascii: ascii) }
        var head = DisplayWidth.truncate(d.name, to: room, ascii: ascii)
        let locRoom = room - DisplayWidth.width(head) - 2
        if !d.location.isEmpty && locRoom >= 8 {
            var loc = d.location
            if DisplayWidth.width(loc) > locRoom {
                var kept = ""
                for ch in loc.reversed() {
                    if DisplayWidth.width(kept) + DisplayWidth.width(String(ch)) > locRoom - 1 { break }
                    kept = String(ch) + kept
                }
                loc = (ascii ? "~" : "…") + kept
            }
            head += "  " + loc
        }
        return head + "  " + tail
    }

    /// The last line: the search prompt, a message, or the file facts and key hints.
    static func drawStatus(_ g: inout CellGrid, _ c: DrawContext) {
        let y = c.layout.statusRow
        g.fill(x: 0, y: y, count: g.width, role: .status)
        let s = c.state
        if s.searching {
            let found = c.matches
            let n = found.count
            var x = g.put("/" + s.query, x: 0, y: y, role: .status)
            x = g.put(c.options.ascii ? "_" : "▏", x: x, y: y, role: .statusKey)
            let info = "  \(n) match\(n == 1 ? "" : "es")" + (found.error.map { " (\($0))" } ?? "")
                + "   Enter: go  Esc: cancel"
            g.put(info, x: x, y: y, role: .status)
            return
        }
        if let m = s.message {
            g.put(DisplayWidth.truncate(m, to: g.width, ascii: c.options.ascii), x: 0, y: y, role: .statusKey)
            return
        }
        let p = c.profile
        let m = min(s.metric, p.metrics.count - 1)
        var facts = "\(p.format)  \(p.metrics[m].description)  total \(ValueFormat.withUnit(p.total(metric: m), unit: p.metrics[m].unit))"
        if let d = c.derived.diff, let bp = c.derived.baseProfile {
            let baseUnit = bp.metrics[c.derived.baseMetric].unit
            facts = diffFacts(d, unit: p.metrics[m].unit, baseUnit: baseUnit, ascii: c.options.ascii)
                + (d.verdicts.map { "  " + $0.status } ?? "")
        } else if let live = c.derived.live {
            facts = liveFacts(live, paused: s.paused, now: c.now) + "  " + facts
        } else if let n = p.sampleCount, p.metrics[m].unit != "count" { facts += "  \(n) samples" }
        for note in p.statusNotes(metric: m) { facts += "  " + note }
        if !s.query.isEmpty { facts += "  /\(s.query)" }
        if let pct = s.minPercent { facts += "  min \(ValueFormat.fixed(pct, 1))%" }
        var x = 0
        for (k, label) in Keymap.hints(for: s.view, ascii: c.options.ascii) {
            let need = DisplayWidth.width(k) + DisplayWidth.width(label) + 3
            // The first hint (help) stays on a narrow terminal, before the facts (cut to fit).
            let first = x == 0 && need <= g.width - 1
            if !first && x + need > g.width - DisplayWidth.width(facts) - 3 { break }
            x = g.put(k, x: x, y: y, role: .statusKey)
            x = g.put(" " + label + "  ", x: x, y: y, role: .status)
        }
        // The bottom-right cell stays empty: some terminals scroll when it is written. Facts
        // that do not fit are dropped whole (the format and the metric's name first, then from
        // the left), so that a number is never cut.
        var pieces = facts.components(separatedBy: "  ")
        var expendable = [p.format, p.metrics[m].description]
        while pieces.count > 1 && DisplayWidth.width(pieces.joined(separator: "  ")) > g.width - 1 - x {
            if let i = expendable.lazy.compactMap({ e in pieces.firstIndex(of: e) }).first {
                pieces.remove(at: i)
            } else {
                pieces.removeFirst()
            }
            expendable.removeAll { !pieces.contains($0) }
        }
        facts = pieces.joined(separator: "  ")
        let fx = max(x, g.width - 1 - DisplayWidth.width(facts))
        g.put(DisplayWidth.truncate(facts, to: g.width - 1 - fx, ascii: c.options.ascii), x: fx, y: y, role: .status)
    }

    /// Diff mode: the mode and both totals, `absolute  base 1.2 s → new 0.8 s (-33.3%)`.
    /// (Units can differ: py-spy's samples against cProfile's seconds; then no change is given.)
    static func diffFacts(_ d: ProfileDiff, unit: String, baseUnit: String, ascii: Bool) -> String {
        let change = baseUnit != unit ? "" : d.baseTotal != 0 ? " (" + Theme.signedPercent((d.newTotal - d.baseTotal) / d.baseTotal) + ")" : " (new)"
        return (d.normalized ? "diff of shares" : "diff absolute") + "  base " + ValueFormat.withUnit(d.baseTotal, unit: baseUnit)
            + (ascii ? " -> " : " → ") + ValueFormat.withUnit(d.newTotal, unit: unit) + change
    }

    /// `LIVE 12345 samples 2300/s 0:42`, or paused / ended / error.
    static func liveFacts(_ l: LiveStatus, paused: Bool, now: Double) -> String {
        let state = paused && l.state == .live ? "PAUSED" : l.state.label.uppercased()
        let secs = Int(max(0, (l.started > 0 ? now - l.started : 0)))
        var t = "\(state)  \(l.samples) samples"
        if let w = l.window { t += "  window \(w)s" }
        if l.state == .live { t += "  \(ValueFormat.fixed(l.samplesPerSecond, 0))/s  \(secs / 60):\(String(format: "%02d", secs % 60))" }
        if l.garbage > 0 { t += "  \(l.garbage) bad lines" }
        if l.capped { t += "  MEMORY CAP (--max-memory): tree stopped, \(l.dropped) \(l.droppedUnit) not counted" }
        if case .error(let why) = l.state { t += ": " + why }
        if let note = l.message { t += "  (\(note))" }
        return t
    }

    static func drawOverlay(_ g: inout CellGrid, _ o: Overlay, _ c: DrawContext) {
        switch o {
        case .help(let scroll):
            let top = 1, height = max(1, g.height - 2)
            for y in top..<(top + height) { g.fill(x: 0, y: y, count: g.width, role: .help) }
            g.put(DisplayWidth.truncate("Keys (from the key table; j/k scroll, Esc closes, other keys close and act)",
                                        to: g.width - 1, ascii: c.options.ascii), x: 1, y: top, role: .title)
            // Descriptions wrap under themselves rather than being cut at the edge.
            var rows: [(keys: String, text: String, heading: Bool)] = []
            let textWidth = g.width - 27
            for l in Keymap.helpLines(ascii: c.options.ascii, view: c.state.view) {
                if l.heading || textWidth < 12 { rows.append(l); continue }
                for (i, piece) in wrap(l.text, width: textWidth).enumerated() { rows.append((i == 0 ? l.keys : "", piece, false)) }
            }
            let start = min(scroll, max(0, rows.count - (height - 1)))
            var y = top + 1
            for l in rows.dropFirst(start) {
                if y >= top + height { break }
                if l.heading {
                    g.put(l.keys, x: 1, y: y, role: .header)
                } else {
                    let x = g.put(DisplayWidth.truncate(l.keys, to: 22, ascii: c.options.ascii), x: 3, y: y, role: .helpKey)
                    g.put(l.text, x: max(x + 1, 26), y: y, role: .help)
                }
                y += 1
            }
        case .summary:
            let top = 1, height = max(1, g.height - 2)
            for y in top..<(top + height) { g.fill(x: 0, y: y, count: g.width, role: .help) }
            guard let summary = c.derived.summary else { break }
            let p = summary.profile
            let t = summary.triage
            var y = top
            // Diff mode: each class's share in the base beside the new one ("was").
            let before = summary.before
            g.put(before == nil ? "What kind of slow it is (by innermost matching frame; any key closes)"
                                : "What kind of slow, before and after (innermost matching frame; any key closes)",
                  x: 1, y: y, role: .title)
            y += 2
            var classes = t.classes
            if let before { classes += before.classes.filter { b in !t.classes.contains { $0.kind == b.kind } }.map { var e = $0; e.weight = 0; e.top = []; return e } }
            for cls in classes where y < top + height - 1 {
                let share = t.total > 0 ? cls.weight / t.total : 0
                var x = g.put(DisplayWidth.truncate(cls.title, to: 30, ascii: c.options.ascii), x: 1, y: y, role: .header)
                x = max(x + 1, 32)
                let pct = ValueFormat.percent(cls.weight, of: t.total)
                x = g.put(String(repeating: " ", count: max(0, 6 - pct.count)) + pct, x: x, y: y, role: Theme.heat(share))
                let bar = before == nil ? 12 : 5
                if let before {
                    let was = before.classes.first { $0.kind == cls.kind }.map { before.total > 0 ? $0.weight / before.total : 0 } ?? 0
                    let text = " was " + ValueFormat.fixed(was * 100, 1) + "%"
                    x = g.put(text + String(repeating: " ", count: max(0, 11 - text.count)), x: x, y: y, role: Theme.change(share - was))
                }
                let filled = Int((share * Double(bar)).rounded())
                x = g.put(" " + String(repeating: c.options.barFull, count: filled), x: x, y: y, role: .bar)
                x = g.put(String(repeating: c.options.barEmpty, count: bar - filled) + " ", x: x, y: y, role: .barEmpty)
                let names = cls.top.map { p.frames.name(ofFunction: $0.function) }.joined(separator: ", ")
                g.put(names, x: x, y: y, role: .help)
                y += 1
            }
            if let look = summary.lookHere.first, y + 2 < top + height {
                y += 1
                var text = "Look here first: " + look.name
                if let f = look.file { text += "  " + f + (look.line.map { ":\($0)" } ?? "") }
                g.put(text, x: 1, y: y, role: .title)
                y += 1
                if let src = look.source, let line = look.line, y < top + height { g.put("  \(line) | " + src, x: 1, y: y, role: .help); y += 1 }
                if let hint = look.hint {
                    for piece in wrap("hint: " + hint, width: g.width - 4) where y < top + height {
                        g.put(piece, x: 3, y: y, role: .helpKey)
                        y += 1
                    }
                }
            }
        case .source(let top):
            SourceView.draw(&g, c, top: top)
        case .sortMenu(let index):
            let items = c.derived.sortKeys
            let w = 24, h = items.count + 2
            let x0 = max(0, (g.width - w) / 2), y0 = max(1, (g.height - h) / 2)
            for y in y0..<min(g.height, y0 + h) { g.fill(x: x0, y: y, count: w, role: .help) }
            g.put("Sort by", x: x0 + 1, y: y0, role: .title)
            for (i, k) in items.enumerated() {
                let label = (i == index ? "> " : "  ") + k.rawValue
                g.fill(x: x0, y: y0 + 1 + i, count: w, role: i == index ? .selection : .help)
                g.put(label, x: x0 + 1, y: y0 + 1 + i, role: i == index ? .selection : .help)
            }
        }
    }
}

/// What the views need while drawing.
struct DrawContext {
    let state: AppState
    let derived: Derived
    let profile: Profile
    let layout: Layout
    let options: RenderOptions
    /// The selection line; views fill it in.
    var detail = Detail()
    /// The clock the frame is drawn at (seconds since 1970).
    var now = 0.0

    init(state: AppState, derived: Derived, layout: Layout, options: RenderOptions) {
        self.state = state; self.derived = derived; self.profile = derived.profile; self.layout = layout; self.options = options
        if let f = state.selectedFunction, Int(f) < profile.functions.count {
            detail = DrawContext.describeFunction(f, in: profile, metric: state.metric, whole: derived.wholeTotal)
            if let d = derived.diff {
                detail.facts += "  " + DrawContext.describeChange(new: profile.functions.totalWeight[metric][Int(f)],
                                                            base: d.functionBaseTotal[Int(f)], d, unit: profile.metrics[metric].unit, what: "total")
            }
        }
    }

    var metric: Int { min(state.metric, profile.metrics.count - 1) }
    var matches: SearchMatches { derived.matches }

    func value(_ v: Double, in p: Profile) -> String {
        ValueFormat.withUnit(v, unit: p.metrics[metric].unit)
    }

    static func describeFunction(_ f: Int32, in p: Profile, metric m: Int, whole: Double? = nil) -> Detail {
        let m = min(m, p.metrics.count - 1)
        let ft = p.functions
        let total = p.total(metric: m)
        let unit = p.metrics[m].unit
        let name = p.frames.name(ofFunction: f)
        let loc = Report.location(file: p.frames.file(ofFunction: f), line: p.frames.line(ofFunction: f))
        // With a transform that changed the total, each share of it is followed by the share of
        // the whole profile.
        func ofWhole(_ v: Double) -> String {
            guard let whole, whole != total else { return "" }
            return ", \(ValueFormat.percent(v, of: whole)) of whole"
        }
        let sw = ft.selfWeight[m][Int(f)], tw = ft.totalWeight[m][Int(f)]
        var s = "self \(ValueFormat.withUnit(sw, unit: unit)) (\(ValueFormat.percent(sw, of: total))\(ofWhole(sw)))"
        s += "  total \(ValueFormat.withUnit(tw, unit: unit)) (\(ValueFormat.percent(tw, of: total))\(ofWhole(tw)))"
        if let c = ft.calls?[Int(f)], c >= 0 {
            let pc = ft.primitiveCalls?[Int(f)] ?? c
            s += "  calls \(c == pc ? String(c) : "\(c)/\(pc)")"
        }
        return Detail(name: name, location: loc, facts: s)
    }

    /// Diff mode: `total was 1.2 s, now 0.8 s (-3.1% of the base total)`, or in shares.
    static func describeChange(new: Double, base: Double, _ d: ProfileDiff, unit: String, what: String) -> String {
        let r = d.change(new: new, base: base)
        if d.normalized {
            return "\(what) share was \(ValueFormat.percent(base, of: d.baseTotal)), now \(ValueFormat.percent(new, of: d.newTotal)) (\(Theme.signedPercent(r)))"
        }
        return "\(what) was \(ValueFormat.withUnit(base, unit: unit)), now \(ValueFormat.withUnit(new, unit: unit)) (\(Theme.signedPercent(r)) of the base total)"
    }

    /// Selection line for a tree node: percentages of the root and of the parent; in diff
    /// mode, what the node's total was in the base.
    /// `whole`: the total before the transforms; `shownName` names what the root is then ("focus",
    /// or "shown" after a drop).
    static func describeNode(_ n: Int32, in p: Profile, metric m: Int, diff: ProfileDiff? = nil, whole: Double? = nil,
                             shownName: String = "focus") -> Detail {
        let t = p.tree
        let m = min(m, p.metrics.count - 1)
        let fr = p.frames.frame(t.frame[Int(n)])
        let name = fr.name
        let loc = Report.location(file: fr.file, line: fr.line)
        let unit = p.metrics[m].unit
        let root = t.totalWeight[m][0]
        let parent = t.totalWeight[m][Int(t.parent[Int(n)])]
        let w = t.totalWeight[m][Int(n)], sw = t.selfWeight[m][Int(n)]
        // While a transform changed the total (a focus, a drop), the root is the focus and each
        // share of it is followed by the share of the whole profile.
        let focused = whole.map { $0 != root } ?? false
        let ofWhole = focused ? ", \(ValueFormat.percent(w, of: whole!)) of whole" : ""
        let rootName = !focused ? "root" : shownName
        var s = "total \(ValueFormat.withUnit(w, unit: unit)) (\(ValueFormat.percent(w, of: root)) of \(rootName)\(ofWhole), \(ValueFormat.percent(w, of: parent)) of parent)"
        if let diff {
            return Detail(name: name, location: loc, facts: s + "  " + describeChange(new: w, base: diff.nodeBaseTotal[Int(n)], diff, unit: unit, what: "total"))
        }
        s += "  self \(ValueFormat.withUnit(sw, unit: unit)) (\(ValueFormat.percent(sw, of: root)))"
        let f = p.function(ofNode: n)
        if f >= 0, let c = p.functions.calls?[Int(f)], c >= 0 { s += "  calls \(c)" }
        return Detail(name: name, location: loc, facts: s)
    }
}

/// The selection line: what is selected (name and location), then facts about it, each a
/// whole `label value` piece separated by two spaces.
struct Detail {
    var name = ""
    var location = ""
    var facts = ""
    var head: String { location.isEmpty ? name : name + "  " + location }
    var text: String { facts.isEmpty ? head : head.isEmpty ? facts : head + "  " + facts }
}
