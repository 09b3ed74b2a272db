import Foundation
import ProfileModel

/// The only place that changes `AppState`. Keys become actions through the key table, after
/// the modal chain (search prompt → overlay → view → global) has had its say.
/// What the loop must do after a key, besides drawing the new state.
public enum Effect: Equatable, Sendable {
    /// Repaint every cell (Ctrl-L).
    case redrawAll
    /// Give the terminal to the editor at this file and line, then take it back.
    case openEditor(EditTarget)
    /// Read what the key needs from the disk (`Session.read(for:)`: the profile with one
    /// frame per line, the selected function's source path), then hand the key to the
    /// reducer again. The reducer itself reads no file.
    case read(then: Key)
}

extension AppState {
    /// Handles one key and returns the effects the loop carries out.
    public mutating func reduce(_ key: Key, deriver: any Deriver, size: Size) -> [Effect] {
        var effects: [Effect] = handle(key, deriver: deriver, size: size) ? [.redrawAll] : []
        if readRequest {
            readRequest = false
            effects.append(.read(then: key))
        }
        if let e = editRequest {
            editRequest = nil
            effects.append(.openEditor(e))
        }
        return effects
    }

    /// Handles one key. Returns true when the screen should be redrawn from scratch (Ctrl-L).
    @discardableResult
    public mutating func handle(_ key: Key, deriver: any Deriver, size: Size) -> Bool {
        message = nil
        if key == .resize { return false }
        followHotPath = false
        // A chain of handlers, each consuming the key or passing it on: the search prompt
        // (which takes every key), an open overlay, then the view's and the global bindings.
        if searching {
            if let action = Keymap.action(for: key, in: .prompt) { applyPrompt(action, deriver: deriver, size: size) }
            else if case .char(let c) = key {
                query.append(c)
                jumpToMatch(forward: true, deriver: deriver, size: size, includeCurrent: true)
            }
            return false
        }
        if let o = overlay {
            if let action = Keymap.action(for: key, in: .overlay(o.kind)) {
                applyOverlay(action, o, deriver: deriver, size: size)
                return false
            }
            overlay = nil
            // Any other key closes the overlay; the help also does what the key does, as in `less`.
            guard o.kind == .help else { return false }
        }
        // The view's bindings, then global ones (one table, view rows first).
        guard let action = Keymap.action(for: key, in: view) else {
            if case .char(let c) = key { message = "key '\(String(c).terminalSafe)' does nothing here; ? shows the keys" }
            return false
        }
        return apply(action, deriver: deriver, size: size)
    }

    mutating func applyPrompt(_ action: Action, deriver: any Deriver, size: Size) {
        switch action {
        case .enter: searching = false; jumpToMatch(forward: true, deriver: deriver, size: size, includeCurrent: true)
        case .cancelSearch: searching = false; query = ""
        case .quit: quit = true
        case .erase:
            if !query.isEmpty { query.removeLast() }
            jumpToMatch(forward: true, deriver: deriver, size: size, includeCurrent: true)
        case .clearQuery: query = ""
        default: break
        }
    }

    mutating func applyOverlay(_ action: Action, _ o: Overlay, deriver: any Deriver, size: Size) {
        if action == .quit { quit = true; return }
        if action == .close { overlay = nil; return }
        let page = layout(size).bodyHeight
        switch o {
        case .help(let scroll):
            switch action {
            case .down: overlay = .help(scroll: scroll + 1)
            case .up: overlay = .help(scroll: max(0, scroll - 1))
            case .pageDown: overlay = .help(scroll: scroll + page)
            case .pageUp: overlay = .help(scroll: max(0, scroll - page))
            default: break
            }
        case .summary: break
        case .source(let top):
            guard top != nil || deriver.linesReady(for: self) else { readRequest = true; return }
            let cur = top ?? deriver.sourceTop(self, height: page)
            switch action {
            case .down: overlay = .source(top: cur + 1)
            case .up: overlay = .source(top: max(1, cur - 1))
            case .pageDown: overlay = .source(top: cur + page)
            case .pageUp: overlay = .source(top: max(1, cur - page))
            case .edit: apply(.edit, deriver: deriver, size: size)
            default: break
            }
        case .sortMenu(let i):
            let keys = deriver.sortKeys(for: self)
            let n = keys.count
            switch action {
            case .down: overlay = .sortMenu(index: (i + 1) % n)
            case .up: overlay = .sortMenu(index: (i + n - 1) % n)
            case .enter:
                sort = keys[min(i, n - 1)]; sortDescending = sort != .name; overlay = nil
                keepFunctionSelected(deriver: deriver, size: size)
            default: break
            }
        }
    }

    @discardableResult
    public mutating func apply(_ action: Action, deriver: any Deriver, size: Size) -> Bool {
        let layout = layout(size)
        // What needs the disk waits for the loop to read it (an effect).
        if (action == .edit && !deriver.editReady(self)) || (action == .toggleLines && !splitLines && !deriver.linesReady(for: self))
            || (action == .toggleThreads && !deriver.threadsReady(for: self)) {
            readRequest = true
            return false
        }
        let before = deriver.profile(for: self)
        let stepsBefore = transforms
        switch action {
        case .quit: quit = true
        case .cycleWindow:
            if deriver.live == nil { message = "w sets a time window on live streams; this profile is a file" } else {
                let windows: [Int?] = [nil, 60, 10, 2]
                let i = windows.firstIndex(of: window) ?? 0
                window = windows[(i + 1) % windows.count]
                message = window.map { "window: the last \($0) s (what is hot now)" } ?? "window: all samples"
            }
        case .pause:
            if deriver.live == nil { message = "p pauses live streams; this profile is a file" } else {
                paused.toggle()
                message = paused ? "paused: ingestion goes on; p jumps to the present" : "live"
            }
        case .redraw: return true
        case .help: overlay = .help(scroll: 0)
        case .summary: overlay = .summary
        case .source:
            if selectedFunction == nil { message = "select a function first" } else { overlay = .source(top: nil) }
        case .view(let v): switchView(to: v, deriver: deriver, size: size)
        case .nextView:
            let all = ViewKind.allCases
            switchView(to: all[(all.firstIndex(of: view)! + 1) % all.count], deriver: deriver, size: size)
        case .previousView:
            let all = ViewKind.allCases
            switchView(to: all[(all.firstIndex(of: view)! + all.count - 1) % all.count], deriver: deriver, size: size)
        case .search: searching = true; query = ""
        case .searchNext: jumpToMatch(forward: true, deriver: deriver, size: size, includeCurrent: false)
        case .searchPrevious: jumpToMatch(forward: false, deriver: deriver, size: size, includeCurrent: false)
        case .sortNext:
            let all = deriver.sortKeys(for: self)
            sort = all[((all.firstIndex(of: sort) ?? -1) + 1) % all.count]
            sortDescending = sort != .name
            keepFunctionSelected(deriver: deriver, size: size)
        case .sortReverse:
            sortDescending.toggle()
            keepFunctionSelected(deriver: deriver, size: size)
        case .sortMenu: overlay = .sortMenu(index: deriver.sortKeys(for: self).firstIndex(of: sort) ?? 0)
        case .focus:
            guard let f = selectedFunction else { message = "select a function first"; break }
            push(.focusFunction(f), in: before, then: "focused on \(before.frames.name(ofFunction: f).terminalSafe); u undoes")
        case .focusSubtree:
            let node = view == .tree ? tree.selected : view == .flame ? flame.selected : -1
            guard node > 0, Int(node) < before.tree.count else {
                message = "z focuses on a node: select one in the call tree (2) or the flame graph (5)"; break
            }
            push(.focusSubtree(path: before.tree.framePath(to: node)), in: before, then: "focused on the subtree; u undoes")
        case .hide:
            guard let f = selectedFunction else { message = "select a function first"; break }
            push(.merge(f), in: before, then: "merged \(before.frames.name(ofFunction: f).terminalSafe) into its callers; u undoes")
            selectedFunction = nil
        case .drop:
            guard let f = selectedFunction else { message = "select a function first"; break }
            push(.drop(f), in: before, then: "dropped the samples through \(before.frames.name(ofFunction: f).terminalSafe); u undoes")
            selectedFunction = nil
        case .collapseRecursion, .collapseDirectRecursion:
            guard let f = selectedFunction else { message = "select a function first"; break }
            let direct = action == .collapseDirectRecursion
            push(direct ? .collapseDirectRecursion(f) : .collapseRecursion(f), in: before,
                 then: "collapsed the \(direct ? "direct " : "")recursion of \(before.frames.name(ofFunction: f).terminalSafe); u undoes")
        case .collapseModule:
            guard let f = selectedFunction else { message = "select a function first"; break }
            guard let rule = AppState.collapseRule(forFileOf: f, in: before) else {
                message = "no file recorded for \(before.frames.name(ofFunction: f).terminalSafe): nothing to collapse"; break
            }
            push(.collapseFrames(rule), in: before, then: "collapsed \(rule.label.terminalSafe) into one frame; u undoes")
        case .undo:
            guard !transforms.isEmpty else { message = "no transform to undo"; break }
            // With the screen kept from before the step, nothing is carried over.
            if undo() { openViewIfNeeded(deriver: deriver, size: size); return false }
        case .clearFocus:
            guard !transforms.isEmpty else { message = "no transform to undo"; break }
            var restored = false
            while !transforms.isEmpty { restored = undo() }
            if restored { openViewIfNeeded(deriver: deriver, size: size); return false }
        case .unhideAll:
            // Every merge step goes, with its memo; the steps after it keep their ids (a merge
            // adds no frame), and the selection is carried over by frame path.
            let keep = transforms.indices.filter { if case .merge = transforms[$0] { return false }; return true }
            guard keep.count < transforms.count else { message = "nothing is merged"; break }
            let firstGone = transforms.indices.first { !keep.contains($0) } ?? transforms.count
            undoMemos = keep.map { $0 < firstGone && $0 < undoMemos.count ? undoMemos[$0] : nil }
            transforms = keep.map { transforms[$0] }
        case .cycleMinPercent:
            let steps: [Double?] = [nil, 0.5, 1, 2, 5]
            let i = steps.firstIndex(of: minPercent) ?? 0
            minPercent = steps[(i + 1) % steps.count]
            message = minPercent.map { "hiding rows under \(ValueFormat.fixed($0, 1))% of the total (M: next)" } ?? "showing every row"
            keepSelectionAboveMinimum(deriver: deriver, size: size)
        case .cycleMetric:
            guard before.metrics.count > 1 else {
                message = "this profile has one metric: \(before.metrics[0].description)"; break
            }
            metric = (metric + 1) % before.metrics.count
            message = "metric: \(before.metrics[metric].description)"
                + (TachyonStatus.filterNote(before, metric: metric).map { " (\($0))" } ?? "")
        case .toggleThreads:
            threadsMerged.toggle()
            message = threadsMerged ? "threads merged" : "threads split"
            if !deriver.hasThreads { message = "this profile has no threads" }
        case .diffMode:
            guard deriver.hasDiffBase else { message = "% switches diff modes; open two profiles with perftop diff BASE NEW"; break }
            let shares = !deriver.diffNormalized(self)
            diffNormalize = shares
            message = shares ? "diff: shares of each total (normalized)" : "diff: absolute values"
        case .edit:
            guard let f = selectedFunction else { message = "select a function first"; break }
            switch deriver.editTarget(self, function: f) {
            case .noSource: message = "no source file recorded for \(before.frames.name(ofFunction: f).terminalSafe)"
            case .binary(let file): message = "\(file.terminalSafe) is a binary, not a source file"
            case .target(let target) where !target.exists:
                message = "source not found: \(target.path.terminalSafe) (--source-root DIR or --path-map FROM=TO)"
            case .target(let target): editRequest = target
            }
        case .toggleLines:
            if !splitLines, let why = deriver.noLinesReason(self) { message = why; break }
            splitLines.toggle()
            message = splitLines ? "one node per line" : "one node per function"
        default:
            moveInView(action, deriver: deriver, layout: layout)
        }
        let after = deriver.profile(for: self)
        if after !== before { carryOver(from: before, to: after, deriver: deriver, size: size) }
        if transforms != stepsBefore, let why = deriver.transformFailure(for: self) { message = "cannot apply " + why }
        return false
    }

    // MARK: - Transforms

    /// Pushes `step` on the stack, keeping what the screen showed so `u` can give it back.
    mutating func push(_ step: TransformStep, in before: Profile, then text: String) {
        undoMemos.append(ViewMemo(tree: tree, inverted: inverted, flame: flame, fnSelected: fnSelected, fnTop: fnTop,
                                  fnOpened: fnOpened, callersSelected: callersSelected, callersTop: callersTop,
                                  selectedFunction: selectedFunction))
        transforms.append(step)
        message = text
    }

    /// Pops the last step and restores the screen from before it (the session still has that
    /// profile, so nothing is derived again). False when no screen was kept for it.
    mutating func undo() -> Bool {
        transforms.removeLast()
        guard let kept = undoMemos.popLast(), let m = kept else { return false }
        tree = m.tree; inverted = m.inverted; flame = m.flame
        fnSelected = m.fnSelected; fnTop = m.fnTop; fnOpened = m.fnOpened
        callersSelected = m.callersSelected; callersTop = m.callersTop
        selectedFunction = m.selectedFunction
        return true
    }

    /// After an undo: the kept screen is from before the step, when this view may not have been
    /// opened yet (the step was made in another view). It opens now, as switching to it does,
    /// so its cursor and the selected function agree.
    mutating func openViewIfNeeded(deriver: any Deriver, size: Size) {
        switch view {
        case .functions where !fnOpened, .tree where !tree.opened, .inverted where !inverted.opened:
            syncViewToSelectedFunction(deriver: deriver, size: size)
        default: break
        }
    }

    /// The library rule for a function's file: the standard library, site-packages, Python's
    /// frozen import machinery, else the file itself (as a regular expression matching it).
    static func collapseRule(forFileOf f: Int32, in p: Profile) -> CollapseRule? {
        guard let file = p.frames.file(ofFunction: f), !file.isEmpty else { return nil }
        if DisplayPath.isFrozenImportlib(file) { return .frozenImportlib }
        switch DisplayPath.classify(file) {
        case .stdlib: return .stdlib
        case .sitePackages: return .sitePackages
        case .other: return .regex(NSRegularExpression.escapedPattern(for: file))
        }
    }

    /// After the minimum-percent filter changed: a selected tree row that is now hidden gives way
    /// to its nearest shown ancestor, and the top row is kept valid.
    mutating func keepSelectionAboveMinimum(deriver: any Deriver, size: Size) {
        let h = layout(size).bodyHeight
        for inInverted in [false, true] where !inInverted || inverted.opened {
            let p = inInverted ? deriver.inverted(for: self) : deriver.profile(for: self)
            var ts = inInverted ? inverted : tree
            guard ts.selected > 0, Int(ts.selected) < p.tree.count else { continue }
            let nav = TreeNav(tree: p.tree, expanded: ts.expanded, minPercent: minPercent, metric: metric)
            var n = ts.selected
            while n > 0 && !nav.shown(n) { n = p.tree.parent[Int(n)] }
            ts.selected = n > 0 ? n : nav.first
            if ts.top > 0 && !nav.shown(ts.top) { ts.top = ts.selected }
            ts.top = nav.scrolled(top: ts.top, selected: ts.selected, height: h)
            if inInverted { inverted = ts } else { tree = ts }
        }
        if view == .functions { keepFunctionSelected(deriver: deriver, size: size) }
    }

    // MARK: - Views

    mutating func switchView(to v: ViewKind, deriver: any Deriver, size: Size) {
        guard v != view else { return }
        previousView = view
        view = v
        syncViewToSelectedFunction(deriver: deriver, size: size)
    }

    /// Makes the view show `selectedFunction`: its row, or its heaviest node.
    mutating func syncViewToSelectedFunction(deriver: any Deriver, size: Size) {
        let layout = layout(size)
        let p = deriver.profile(for: self)
        switch view {
        case .functions:
            if !fnOpened {
                // The table opens at the top of its sort: the selection comes along only when it
                // is on that first page, rather than scrolling the table to it.
                fnOpened = true
                fnTop = 0
                let rows = deriver.functionRows(for: self)
                fnSelected = selectedFunction.flatMap { rows.prefix(layout.bodyHeight).firstIndex(of: $0) } ?? 0
                if fnSelected < rows.count { selectRow(rows[fnSelected]) }
            } else {
                keepFunctionSelected(deriver: deriver, size: size)
            }
        case .tree:
            openTreeIfNeeded(deriver: deriver, size: size)
            if let f = selectedFunction, p.function(ofNode: tree.selected) != f,
               let n = heaviestNode(of: f, in: p) {
                reveal(n, inInverted: false, profile: p, height: layout.bodyHeight)
            }
        case .inverted:
            let inv = deriver.inverted(for: self)
            if !inverted.opened {
                // Opens on its first root (the most self time), as the table opens at its top;
                // the selected function comes along only if it is a root on the first page.
                inverted.opened = true
                inverted.selected = inv.tree.firstChild(0)
                inverted.top = inverted.selected
                if let f = selectedFunction,
                   let r = inv.tree.children(0).prefix(layout.bodyHeight).first(where: { inv.function(ofNode: $0) == f }) {
                    inverted.selected = r
                } else if inverted.selected >= 0 {
                    let f = inv.function(ofNode: inverted.selected)
                    if f >= 0 { selectedFunction = f }
                }
            } else if let f = selectedFunction, inv.function(ofNode: inverted.selected) != f {
                // The inverted tree's roots are functions with self time.
                if let r = inv.tree.children(0).first(where: { inv.function(ofNode: $0) == f }) {
                    reveal(r, inInverted: true, profile: inv, height: layout.bodyHeight)
                }
            }
        case .callers:
            if selectedFunction == nil { selectedFunction = hottestFunction(p) }
            callersSelected = callersModel(deriver: deriver).selfRow
            callersTop = 0
        case .flame:
            if let f = selectedFunction, flame.selected < 0 || p.function(ofNode: flame.selected) != f {
                flame.selected = heaviestNode(of: f, in: p) ?? p.tree.firstChild(0)
            }
            if flame.selected < 0 { flame.selected = p.tree.firstChild(0) }
            flame.zoom = flame.zoom.filter { isAncestor($0, of: flame.selected, in: p.tree) }
            keepFlameSelectionVisible(profile: p, layout: layout)
        }
    }

    /// Opens the call tree on the hot path: expanded and its deepest hot node selected.
    public mutating func openTreeIfNeeded(deriver: any Deriver, size: Size) {
        guard !tree.opened else { return }
        let p = deriver.profile(for: self)
        guard p.tree.firstChild(0) >= 0 else { return }       // nothing yet (a live stream)
        tree.opened = true
        let nav = TreeNav(tree: p.tree, expanded: tree.expanded, minPercent: minPercent, metric: metric)
        let path = nav.hotPath(from: 0, metric: metric, avoiding: { p.isUnplacedTime(node: $0) })
        for n in path.dropLast() { tree.expanded.insert(n) }
        let sel = path.last ?? p.tree.firstChild(0)
        tree.selected = sel
        tree.top = TreeNav(tree: p.tree, expanded: tree.expanded, minPercent: minPercent, metric: metric).scrolled(top: p.tree.firstChild(0), selected: sel,
                                                                           height: layout(size).bodyHeight)
        if sel >= 0 { selectedFunction = p.function(ofNode: sel) >= 0 ? p.function(ofNode: sel) : selectedFunction }
    }

    func heaviestNode(of f: Int32, in p: Profile) -> Int32? {
        let w = p.tree.totalWeight[min(metric, p.metrics.count - 1)]
        return p.functions.nodes(of: f).max { w[Int($0)] < w[Int($1)] }
    }

    func hottestFunction(_ p: Profile) -> Int32? {
        let m = min(metric, p.metrics.count - 1)
        guard p.functions.count > 0 else { return nil }
        return Int32((0..<p.functions.count).max { p.functions.selfWeight[m][$0] < p.functions.selfWeight[m][$1] }!)
    }

    func isAncestor(_ a: Int32, of n: Int32, in t: CallTree) -> Bool {
        var k = n
        while k > 0 { if k == a { return true }; k = t.parent[Int(k)] }
        return a == 0
    }

    /// Expands the ancestors of `n`, selects it and scrolls to it.
    mutating func reveal(_ n: Int32, inInverted: Bool, profile p: Profile, height: Int) {
        var ts = inInverted ? inverted : tree
        AppState.reveal(n, in: &ts, profile: p, height: height, minPercent: minPercent, metric: metric)
        if inInverted { inverted = ts } else { tree = ts }
    }

    static func reveal(_ n: Int32, in ts: inout TreeState, profile p: Profile, height: Int, minPercent: Double? = nil, metric: Int = 0) {
        var k = p.tree.parent[Int(n)]
        while k > 0 { ts.expanded.insert(k); k = p.tree.parent[Int(k)] }
        ts.selected = n
        ts.top = TreeNav(tree: p.tree, expanded: ts.expanded, minPercent: minPercent, metric: metric).scrolled(top: ts.top, selected: n, height: height)
    }

    mutating func keepFunctionSelected(deriver: any Deriver, size: Size) {
        let rows = deriver.functionRows(for: self)
        if let f = selectedFunction, let i = rows.firstIndex(of: f) { fnSelected = i }
        fnSelected = max(0, min(fnSelected, rows.count - 1))
        if fnSelected < rows.count { selectRow(rows[fnSelected]) }
        let h = layout(size).bodyHeight
        if fnSelected < fnTop { fnTop = fnSelected }
        if fnSelected >= fnTop + h { fnTop = fnSelected - h + 1 }
        fnTop = max(0, min(fnTop, max(0, rows.count - h)))
    }

    /// Selects a function-table row; a diff row that is only in the base selects nothing.
    mutating func selectRow(_ row: Int32) { selectedFunction = row >= 0 ? row : nil }

    // MARK: - Movement

    mutating func moveInView(_ action: Action, deriver: any Deriver, layout: Layout) {
        let size = layout.size
        switch view {
        case .functions:
            let rows = deriver.functionRows(for: self)
            guard !rows.isEmpty else { return }
            let h = layout.bodyHeight
            switch action {
            case .down: fnSelected += 1
            case .up: fnSelected -= 1
            case .pageDown: fnSelected += h; fnTop += h
            case .pageUp: fnSelected -= h; fnTop -= h
            case .top: fnSelected = 0
            case .bottom: fnSelected = rows.count - 1
            case .enter:
                let row = rows[max(0, min(fnSelected, rows.count - 1))]
                guard row >= 0 else { message = "only in the base profile: nothing to show in this one"; return }
                selectedFunction = row
                switchView(to: .callers, deriver: deriver, size: size)
                return
            default: return
            }
            fnSelected = max(0, min(fnSelected, rows.count - 1))
            selectRow(rows[fnSelected])
            keepFunctionSelected(deriver: deriver, size: size)
        case .tree:
            let p = deriver.profile(for: self)
            var ts = tree
            if let f = AppState.moveTree(action, &ts, profile: p, layout: layout, metric: metric, minPercent: minPercent) { selectedFunction = f }
            tree = ts
        case .inverted:
            let inv = deriver.inverted(for: self)
            var ts = inverted
            if let f = AppState.moveTree(action, &ts, profile: inv, layout: layout, metric: metric, minPercent: minPercent) { selectedFunction = f }
            inverted = ts
        case .callers:
            let model = callersModel(deriver: deriver)
            let h = layout.bodyHeight
            switch action {
            case .down: callersSelected += 1
            case .up: callersSelected -= 1
            case .pageDown: callersSelected += h
            case .pageUp: callersSelected -= h
            case .top: callersSelected = 0
            case .bottom: callersSelected = model.rowCount - 1
            case .enter:
                if let f = model.function(at: callersSelected) {
                    selectedFunction = f
                    callersSelected = callersModel(deriver: deriver).selfRow
                    callersTop = 0
                }
            case .back: switchView(to: previousView == .callers ? .functions : previousView, deriver: deriver, size: size); return
            default: return
            }
            callersSelected = max(0, min(callersSelected, model.rowCount - 1))
            if let f = model.function(at: callersSelected) { selectedFunction = f }
            let rowLine = model.line(ofRow: callersSelected)
            if rowLine < callersTop { callersTop = max(0, rowLine - 1) }
            if rowLine >= callersTop + h { callersTop = rowLine - h + 1 }
        case .flame:
            let p = deriver.profile(for: self)
            moveFlame(action, profile: p, layout: layout)
        }
    }

    /// Moves in a tree view; returns the newly selected function, if any.
    static func moveTree(_ action: Action, _ ts: inout TreeState, profile p: Profile, layout: Layout, metric: Int,
                         minPercent: Double? = nil) -> Int32? {
        let t = p.tree
        if ts.selected < 0 || Int(ts.selected) >= t.count { ts.selected = t.firstChild(0) }
        guard ts.selected >= 0 else { return nil }
        // A state kept from another tree (an undone step's, a view never opened) may name no
        // row of this one at the top: paging starts from the selection then.
        if ts.top < 0 || Int(ts.top) >= t.count { ts.top = ts.selected }
        let h = layout.bodyHeight
        var nav = TreeNav(tree: t, expanded: ts.expanded, minPercent: minPercent, metric: metric)
        var sel = ts.selected
        switch action {
        case .down: sel = nav.step(sel, 1)
        case .up: sel = nav.step(sel, -1)
        case .pageDown: sel = nav.step(sel, h); ts.top = nav.step(ts.top, h)
        case .pageUp: sel = nav.step(sel, -h); ts.top = nav.step(ts.top, -h)
        case .top: sel = nav.first; ts.top = sel
        case .bottom: sel = nav.last
        case .right, .enter:
            if nav.firstChild(sel) >= 0 {
                if ts.expanded.contains(sel) { sel = nav.firstChild(sel) } else { ts.expanded.insert(sel) }
            }
        case .left:
            if ts.expanded.contains(sel) { ts.expanded.remove(sel) }
            else if t.parent[Int(sel)] > 0 { sel = t.parent[Int(sel)] }
        case .expandAll:
            var stack = [sel]
            while let n = stack.popLast() {
                if t.firstChild(n) >= 0 { ts.expanded.insert(n) }
                stack.append(contentsOf: t.children(n))
            }
        case .expandHot:
            let path = nav.hotPath(from: sel, metric: metric, avoiding: { p.isUnplacedTime(node: $0) })
            if !path.isEmpty { ts.expanded.insert(sel) }
            for n in path.dropLast() { ts.expanded.insert(n) }
            sel = path.last ?? sel
        case .collapseAll:
            ts.expanded = []
            var top = sel
            while t.parent[Int(top)] > 0 { top = t.parent[Int(top)] }
            sel = top
        default: return nil
        }
        nav = TreeNav(tree: t, expanded: ts.expanded, minPercent: minPercent, metric: metric)
        ts.selected = sel
        ts.top = nav.scrolled(top: ts.top, selected: sel, height: h)
        let f = p.function(ofNode: sel)
        return f >= 0 ? f : nil
    }

    mutating func moveFlame(_ action: Action, profile p: Profile, layout: Layout) {
        let t = p.tree
        if flame.selected < 0 { flame.selected = t.firstChild(0) }
        guard flame.selected >= 0 else { return }
        let zoomRoot = flame.zoom.last ?? 0
        var sel = flame.selected
        switch action {
        case .up: if sel != zoomRoot && t.parent[Int(sel)] > 0 { sel = t.parent[Int(sel)] }
        case .down: if t.firstChild(sel) >= 0 { sel = t.firstChild(sel) }
        case .left: if sel != zoomRoot, t.previousSibling(sel) >= 0 { sel = t.previousSibling(sel) }
        case .right: if sel != zoomRoot, t.nextSibling(sel) >= 0 { sel = t.nextSibling(sel) }
        case .top: sel = zoomRoot > 0 ? zoomRoot : t.firstChild(0)
        case .bottom: while t.firstChild(sel) >= 0 { sel = t.firstChild(sel) }
        case .pageDown: flame.topDepth += layout.bodyHeight / 2; return
        case .pageUp: flame.topDepth = max(0, flame.topDepth - layout.bodyHeight / 2); return
        case .enter: flame.zoom.append(sel)
        case .back:
            if !flame.zoom.isEmpty { flame.zoom.removeLast() } else { message = "not zoomed" }
        default: return
        }
        flame.selected = sel
        keepFlameSelectionVisible(profile: p, layout: layout)
        let f = p.function(ofNode: sel)
        if f >= 0 { selectedFunction = f }
    }

    mutating func keepFlameSelectionVisible(profile p: Profile, layout: Layout) {
        guard flame.selected >= 0 else { return }
        let base = flame.zoom.last.map { p.tree.depth(of: $0) } ?? 0
        let d = p.tree.depth(of: flame.selected) - base
        if d < flame.topDepth { flame.topDepth = d }
        if d >= flame.topDepth + layout.bodyHeight { flame.topDepth = d - layout.bodyHeight + 1 }
        flame.topDepth = max(0, flame.topDepth)
    }

    // MARK: - Search

    /// Moves to the next (or previous) match of the query in the current view.
    mutating func jumpToMatch(forward: Bool, deriver: any Deriver, size: Size, includeCurrent: Bool) {
        guard !query.isEmpty else { return }
        let layout = layout(size)
        let p = view == .inverted ? deriver.inverted(for: self) : deriver.profile(for: self)
        let matches = deriver.matches(query, in: p)
        guard !matches.isEmpty else { message = "no match for /\(query.terminalSafe)"; return }
        switch view {
        case .functions:
            let rows = deriver.functionRows(for: self)
            guard !rows.isEmpty else { return }
            for k in 0..<rows.count {
                let step = includeCurrent ? k : k + 1
                let i = ((forward ? fnSelected + step : fnSelected - step) % rows.count + rows.count) % rows.count
                if matches.contains(rows[i]) {
                    fnSelected = i; selectRow(rows[i])
                    keepFunctionSelected(deriver: deriver, size: size)
                    return
                }
            }
        case .tree, .inverted, .flame:
            // Pre-order over all nodes (expanding as needed), starting after the selection.
            let t = p.tree
            let n = t.count
            guard n > 1 else { return }
            let start: Int32 = view == .tree ? tree.selected : view == .inverted ? inverted.selected : flame.selected
            if let found = TreeNav.find(in: t, from: max(start, 1), forward: forward, includeCurrent: includeCurrent,
                                        where: { matches.contains(p.function(ofNode: $0)) }) {
                switch view {
                case .tree: reveal(found, inInverted: false, profile: p, height: layout.bodyHeight)
                case .inverted: reveal(found, inInverted: true, profile: p, height: layout.bodyHeight)
                default:
                    flame.selected = found
                    flame.zoom = flame.zoom.filter { isAncestor($0, of: found, in: t) }
                    keepFlameSelectionVisible(profile: p, layout: layout)
                }
                selectedFunction = p.function(ofNode: found)
            }
        case .callers:
            let model = callersModel(deriver: deriver)
            for k in 0..<model.rowCount {
                let step = includeCurrent ? k : k + 1
                let i = ((forward ? callersSelected + step : callersSelected - step) % model.rowCount + model.rowCount) % model.rowCount
                if let f = model.function(at: i), matches.contains(f) { callersSelected = i; return }
            }
        }
    }

    // MARK: - Live snapshots

    /// Follows the session to its newer live snapshot (`Session.adopt`), keeping selection,
    /// expansion and zoom by frame path from `old`, the profile shown before.
    mutating func adopted(from old: Profile, deriver: any Deriver, size: Size) {
        let firstData = old.tree.count <= 1
        let snapshot = deriver.base
        if firstData || metric >= snapshot.metrics.count { metric = snapshot.defaultMetric }
        let new = deriver.profile(for: self)
        if followHotPath {
            tree = TreeState()
            flame = FlameState()
            openTreeIfNeeded(deriver: deriver, size: size)
            syncViewToSelectedFunction(deriver: deriver, size: size)
            return
        }
        carryOver(from: old, to: new, deriver: deriver, size: size)
    }

    // MARK: - Carrying state over when the shown profile is rebuilt

    /// Node ids change when the profile is rebuilt (focus, hide, threads, lines, metric):
    /// carry selections and expanded nodes over by frame path.
    mutating func carryOver(from old: Profile, to new: Profile, deriver: any Deriver, size: Size) {
        func map(_ n: Int32) -> Int32 {
            guard n > 0, Int(n) < old.tree.count else { return n < 0 ? n : 0 }
            let frames = old.tree.framePath(to: n)
            // Frames merged away (hidden, merged threads or lines) are skipped when following.
            let r = new.tree.node(followingFrames: frames)
            return r.exact ? r.node : follow(frames, from: old, in: new).node
        }
        var ex = Set<Int32>()
        for n in tree.expanded { let m = map(n); if m > 0 { ex.insert(m) } }
        tree.expanded = ex
        tree.selected = map(tree.selected)
        if tree.selected <= 0 { tree.selected = new.tree.firstChild(0) }
        let nav = TreeNav(tree: new.tree, expanded: tree.expanded, minPercent: minPercent, metric: metric)
        let h = layout(size).bodyHeight
        tree.top = nav.filled(top: nav.scrolled(top: map(tree.top), selected: tree.selected, height: h), height: h)
        inverted = TreeState()
        flame.zoom = flame.zoom.map(map).filter { $0 > 0 }
        flame.selected = map(flame.selected)
        if flame.selected <= 0 { flame.selected = new.tree.firstChild(0) }
        if let f = selectedFunction, f >= new.functions.count || !new.hasNodes(ofFunction: f) {
            selectedFunction = nil
        }
        if !tree.opened { openTreeIfNeeded(deriver: deriver, size: size) }
        syncViewToSelectedFunction(deriver: deriver, size: size)
    }

    /// Follows `frames` greedily: the same frame, else the heaviest child of the same function
    /// (lines merged or split), else the frame is skipped (hidden or merged away).
    private func follow(_ frames: [Int32], from old: Profile, in p: Profile) -> (node: Int32, exact: Bool) {
        var n: Int32 = 0
        var exact = true
        for f in frames {
            var c = p.tree.child(of: n, frame: f)
            if c < 0, f >= 0, Int(f) < old.frames.frameCount {
                let fn = old.frames.frameFunction[Int(f)]
                if fn >= 0 { c = p.tree.children(n).first { p.function(ofNode: $0) == fn } ?? -1 }
            }
            if c >= 0 { n = c } else { exact = false }
        }
        return (n, exact)
    }
}
