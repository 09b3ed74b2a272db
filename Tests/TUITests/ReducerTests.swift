import XCTest
import ProfileModel
@testable import TUI

final class ReducerTests: XCTestCase {
    /// An estimated tree's unplaced time is never where the viewer opens or `H` ends: in the
    /// threads-shared cProfile dump, "(callees not recorded)" is the heaviest child of `<listcomp>`.
    func testHotPathPassesOverUnplacedTime() throws {
        let session = try TUIFixtures.session("threads-shared.prof")
        let (s, _) = try runKeys(session, keys: "")
        let p = session.profile(for: s)
        let unplaced = (1..<p.tree.count).map(Int32.init).filter { p.isUnplacedTime(node: $0) }
        XCTAssertFalse(unplaced.isEmpty, "the sample has unplaced time")
        XCTAssertFalse(p.isUnplacedTime(node: s.tree.selected))
        XCTAssertGreaterThanOrEqual(p.function(ofNode: s.tree.selected), 0, "opens on a real function")
        // Following the heaviest child alone would have ended there.
        let plain = TreeNav(tree: p.tree, expanded: []).hotPath(from: 0, metric: s.metric)
        XCTAssertTrue(plain.last.map { p.isUnplacedTime(node: $0) } ?? false)
    }

    func testOpensOnTheHotPathSelected() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let (s, screen) = try runKeys(session, keys: "")
        let p = session.profile(for: s)
        // The report's hot path (heaviest child at each level) ends where the viewer selects.
        let hot = p.tree.hotPath(metric: s.metric)
        XCTAssertEqual(s.tree.selected, hot.last)
        XCTAssertEqual(p.frames.name(ofFunction: p.function(ofNode: s.tree.selected)), "dedupe")
        XCTAssertTrue(screen.contains("> 87.0%"), screen)
        for n in hot.dropLast() { XCTAssertTrue(s.tree.expanded.contains(n)) }
    }

    func testSelectionFollowsBetweenViews() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        // Pick `parse` in the function table, then look at it in every other view.
        let (s1, _) = try runKeys(session, keys: "1/^parse$<Enter>2")
        let p = session.profile(for: s1)
        XCTAssertEqual(p.frames.name(ofFunction: p.function(ofNode: s1.tree.selected)), "parse")
        let (s2, _) = try runKeys(session, keys: "1/^parse$<Enter>5")
        XCTAssertEqual(p.frames.name(ofFunction: p.function(ofNode: s2.flame.selected)), "parse")
        let (s3, screen3) = try runKeys(session, keys: "1/^parse$<Enter>3")
        XCTAssertEqual(s3.selectedFunction.map { p.frames.name(ofFunction: $0) }, "parse")
        XCTAssertTrue(screen3.contains("Callers of parse"), screen3)
        let (s4, _) = try runKeys(session, keys: "1/^flatten$<Enter>4")
        let inv = session.inverted(for: s4)
        XCTAssertEqual(inv.frames.name(ofFunction: inv.function(ofNode: s4.inverted.selected)), "flatten")
    }

    func testTreeMovesExpandAndCollapse() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let (s0, _) = try runKeys(session, keys: "g")
        let p = session.profile(for: s0)
        XCTAssertEqual(s0.tree.selected, p.tree.firstChild(0))
        let (s1, _) = try runKeys(session, keys: "g-")
        XCTAssertTrue(s1.tree.expanded.isEmpty)
        let (s2, _) = try runKeys(session, keys: "g-l")
        XCTAssertEqual(s2.tree.expanded, [p.tree.firstChild(0)])
        let (s3, _) = try runKeys(session, keys: "g-ll")
        XCTAssertEqual(s3.tree.selected, p.tree.firstChild(p.tree.firstChild(0)), "l on an open node goes to its first child")
        let (s4, _) = try runKeys(session, keys: "g-llh")
        XCTAssertEqual(s4.tree.selected, p.tree.firstChild(0), "h on a closed node goes to its parent")
        // etl.pyspy.txt has one root: g* expands all of it, so G goes to its deepest last
        // descendant, a leaf.
        XCTAssertEqual(p.tree.children(0).count, 1)
        let (s5, _) = try runKeys(session, keys: "g*G")
        var last = p.tree.firstChild(0)
        while p.tree.lastChild(last) >= 0 { last = p.tree.lastChild(last) }
        XCTAssertNotEqual(last, p.tree.firstChild(0))
        XCTAssertEqual(s5.tree.selected, last)
        XCTAssertEqual(p.tree.firstChild(s5.tree.selected), -1, "and that node is a leaf")
    }

    func testPagingIsBoundedAndStable() throws {
        let session = try TUIFixtures.session("etl.prof")
        var (s, _) = try runKeys(session, keys: "1" + String(repeating: "<PgDn>", count: 50))
        let rows = session.functionRows(for: s)
        XCTAssertEqual(s.fnSelected, rows.count - 1)
        (s, _) = try runKeys(session, keys: "1G" + String(repeating: "<PgUp>", count: 50))
        XCTAssertEqual(s.fnSelected, 0)
        XCTAssertEqual(s.fnTop, 0)
    }

    func testFocusAndHideMakeNewProfilesAndKeepTheBase() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let total = session.base.total(metric: 0)
        let (s, _) = try runKeys(session, keys: "1/^parse$<Enter>f")
        let p = session.profile(for: s)
        let parse = try XCTUnwrap(s.focus)
        XCTAssertEqual(p.total(metric: 0), session.base.functions.totalWeight[0][Int(parse)])
        XCTAssertEqual(session.base.total(metric: 0), total, "the loaded profile is never changed")
        let (s2, _) = try runKeys(session, keys: "1/^parse$<Enter>fF")
        XCTAssertNil(s2.focus)
        XCTAssertEqual(session.profile(for: s2).total(metric: 0), total)
        // Hiding `main` moves its self weight to its caller; totals stay.
        let (s3, _) = try runKeys(session, keys: "1/^main$<Enter>x")
        let p3 = session.profile(for: s3)
        XCTAssertEqual(p3.total(metric: 0), total)
        XCTAssertTrue(p3.functions.nodes(of: s3.hidden.first!).isEmpty)
    }

    func testSearchCountsAndSteps() throws {
        let session = try TUIFixtures.session("etl.prof")
        let (s, _) = try runKeys(session, keys: "1/json<Enter>")
        let p = session.profile(for: s)
        let matches = session.matches("json", in: p)
        XCTAssertGreaterThan(matches.count, 3)
        let first = try XCTUnwrap(s.selectedFunction)
        XCTAssertTrue(matches.contains(first))
        let (s2, _) = try runKeys(session, keys: "1/json<Enter>n")
        XCTAssertNotEqual(s2.selectedFunction, first)
        XCTAssertTrue(matches.contains(s2.selectedFunction!))
        let (s3, _) = try runKeys(session, keys: "1/json<Enter>nN")
        XCTAssertEqual(s3.selectedFunction, first)
        let (s4, screen) = try runKeys(session, keys: "/json")
        XCTAssertTrue(s4.searching)
        XCTAssertTrue(screen.contains("\(matches.count) matches"), screen)
        let (s5, _) = try runKeys(session, keys: "/json<Esc>")
        XCTAssertFalse(s5.searching)
        XCTAssertEqual(s5.query, "")
    }

    func testFlameNavigationAndZoom() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let (s, _) = try runKeys(session, keys: "5")
        let p = session.profile(for: s)
        let sel = s.flame.selected
        let (s1, _) = try runKeys(session, keys: "5k")
        XCTAssertEqual(s1.flame.selected, p.tree.parent[Int(sel)])
        let (s2, _) = try runKeys(session, keys: "5kj")
        XCTAssertEqual(s2.flame.selected, p.tree.firstChild(p.tree.parent[Int(sel)]))
        let (s3, screen3) = try runKeys(session, keys: "5k<Enter>")
        XCTAssertEqual(s3.flame.zoom, [s1.flame.selected])
        XCTAssertTrue(screen3.contains("zoom: main"), screen3)
        // The zoomed frame spans the whole width.
        let zoomRow = screen3.split(separator: "\n")[2]
        XCTAssertTrue(zoomRow.hasPrefix("main"), String(zoomRow))
        let (s4, _) = try runKeys(session, keys: "5k<Enter><Esc>")
        XCTAssertEqual(s4.flame.zoom, [])
        let (s5, _) = try runKeys(session, keys: "5k<Enter><BS>")
        XCTAssertEqual(s5.flame.zoom, [])
    }

    func testMetricThreadsAndLinesToggles() throws {
        let session = try TUIFixtures.session("threads.pyspy.txt")
        let (s, _) = try runKeys(session, keys: "t")
        XCTAssertFalse(s.threadsMerged)
        let p = session.profile(for: s)
        XCTAssertTrue(p.tree.children(0).allSatisfy { p.function(ofNode: $0) < 0 }, "split: thread roots")
        let (s2, _) = try runKeys(session, keys: "L")
        XCTAssertTrue(s2.splitLines)
        XCTAssertGreaterThan(session.profile(for: s2).tree.count, session.profile(for: s).tree.count - 5)
        let (s3, _) = try runKeys(session, keys: "m")
        XCTAssertEqual(s3.metric, 0, "one metric: m wraps around")
    }

    func testQuitKeys() throws {
        let session = try TUIFixtures.session("etl.prof")
        XCTAssertTrue(try runKeys(session, keys: "q").0.quit)
        XCTAssertTrue(try runKeys(session, keys: "<C-c>").0.quit)
        XCTAssertFalse(try runKeys(session, keys: "?q").0.quit, "q closes the help first")
    }
}

final class KeymapTests: XCTestCase {
    func testEveryBindingIsReachableAndDocumented() {
        for b in Keymap.table {
            for v in ViewKind.allCases where b.scope.includes(v) {
                for k in b.keys {
                    // An earlier row for the same key in the same view would shadow this one.
                    let winner = Keymap.table.first { $0.scope.includes(v) && $0.keys.contains(k) }!
                    if winner.action != b.action {
                        XCTAssertNotEqual(winner.scope, .global, "\(k) in \(v): \(b.action) is shadowed by a global key")
                    }
                }
            }
        }
        let help = Keymap.helpLines(ascii: false)
        for b in Keymap.table {
            XCTAssertTrue(help.contains { $0.text == b.help }, "help lacks: \(b.help)")
        }
    }

    /// The prompt's and overlays' keys are rows of the table too: the help lists them, and
    /// the reducer acts on them through it.
    func testModalKeysAreInTheTableAndTheHelp() throws {
        let help = Keymap.helpLines(ascii: true)
        for (heading, text) in [("Search prompt (/)", "cancel the search"), ("Source (v)", "open the file in $EDITOR at the hottest line"),
                                ("Sort menu (o)", "sort by the chosen column"), ("Help (?)", "scroll down")] {
            let h = try XCTUnwrap(help.firstIndex { $0.heading && $0.keys == heading }, heading)
            XCTAssertTrue(help[(h + 1)...].prefix { !$0.heading }.contains { $0.text == text }, "\(heading): \(text)")
        }
        XCTAssertEqual(Keymap.action(for: .esc, in: .prompt), .cancelSearch)
        XCTAssertNil(Keymap.action(for: .char("x"), in: .prompt), "other characters are typed")
        let session = try TUIFixtures.session("etl.prof")
        let (typed, _) = try runKeys(session, keys: "/jsox<BS>n")
        XCTAssertEqual(typed.query, "json")
        XCTAssertTrue(typed.searching)
        let (cleared, _) = try runKeys(session, keys: "/json<C-u>")
        XCTAssertEqual(cleared.query, "")
        let (cancelled, _) = try runKeys(session, keys: "/json<Esc>")
        XCTAssertFalse(cancelled.searching)
        let (sorted, _) = try runKeys(session, keys: "1o<Down><Enter>")
        XCTAssertEqual(sorted.sort, session.sortKeys(for: sorted)[1])
        XCTAssertNil(sorted.overlay)
    }

    func testKeysSyntax() throws {
        XCTAssertEqual(try Key.parse("ab<Enter><C-c><PgDn><lt>"), [.char("a"), .char("b"), .enter, .ctrl("c"), .pgDn, .char("<")])
        XCTAssertThrowsError(try Key.parse("<Nope>"))
        XCTAssertEqual(try Key.parse("<"), [.char("<")])
    }

    func testHintsComeFromTheTable() {
        let hints = Keymap.hints(for: .flame, ascii: true)
        XCTAssertEqual(hints.first?.1, "help")
        XCTAssertTrue(hints.contains { $0.1 == "zoom" })
        XCTAssertFalse(Keymap.hints(for: .functions, ascii: true).contains { $0.1 == "zoom" })
    }
}

final class RenderTests: XCTestCase {
    func testHostileNamesNeverReachTheTerminal() throws {
        let session = try TUIFixtures.session(folded: "main;evil\u{1B}]0:pwned\u{07}\u{1B}[2J;leaf 5\nmain;ok 3\n")
        for keys in ["", "1", "3", "4", "5", "?"] {
            let (s, _) = try runKeys(session, keys: keys)
            let g = Screen.render(s, session: session, size: Size(width: 80, height: 24), options: RenderOptions())
            for c in g.cells {
                XCTAssertFalse(c.text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "keys \(keys): \(c.text)")
            }
            XCTAssertTrue(g.dump().contains("evil\\x1b]0:pwned\\x07\\x1b[2J") || keys == "?" || keys == "4", g.dump())
        }
    }

    func testWideCharactersKeepColumnsAligned() throws {
        let session = try TUIFixtures.session(folded: "main;処理する関数 (app.py:1) 6\nmain;emoji_🔥 (app.py:2) 3\nmain;plain (app.py:3) 1\n")
        let (s, _) = try runKeys(session, keys: "1")
        let g = Screen.render(s, session: session, size: Size(width: 60, height: 12), options: RenderOptions())
        for y in 0..<g.height {
            var cols = 0
            for x in 0..<g.width { cols += 1; _ = g[x, y] }
            XCTAssertEqual(cols, 60)
        }
        XCTAssertEqual(DisplayWidth.width("処理"), 4)
        XCTAssertEqual(DisplayWidth.width("🔥"), 2)
        XCTAssertEqual(DisplayWidth.width("e\u{301}"), 1)
        XCTAssertTrue(g.dump().contains("処理する関数"))
        let line = g.dump().split(separator: "\n").first { $0.contains("処理") }!
        let plainLine = g.dump().split(separator: "\n").first { $0.contains("plain") }!
        // The name column starts at the same display column on both rows.
        func col(_ l: Substring, _ needle: String) -> Int {
            DisplayWidth.width(String(l[..<l.range(of: needle)!.lowerBound]))
        }
        XCTAssertEqual(col(line, "処理"), col(plainLine, "plain"))
    }

    func testTinyAndHugeSizesDoNotCrash() throws {
        let session = try TUIFixtures.session("etl.prof")
        for (w, h) in [(10, 5), (20, 6), (1, 1), (300, 100)] {
            for keys in ["", "1", "3", "4", "5", "?", "1o"] {
                let (s, _) = try runKeys(session, keys: keys, width: w, height: h)
                let g = Screen.render(s, session: session, size: Size(width: w, height: h), options: RenderOptions())
                XCTAssertEqual(g.dump().split(separator: "\n", omittingEmptySubsequences: false).count, max(1, h) + 1)
            }
        }
    }

    /// The title row keeps all five view tabs on screen at every width, names the current view
    /// while there is room, and leaves the file name some room (it ran off the left edge below
    /// ~55 columns, dropping the file name and cutting the tabs); the status row keeps `? help`.
    func testTitleAndStatusFitEveryWidth() throws {
        let session = try TUIFixtures.session("etl.prof")
        for w in 10...120 {
            let (_, screen) = try runKeys(session, keys: "3", width: w, height: 6)
            let title = String(screen.split(separator: "\n", omittingEmptySubsequences: false)[0])
            XCTAssertLessThanOrEqual(DisplayWidth.width(title), w, title)
            let digits = title.split(separator: " ").filter { ["1", "2", "3", "4", "5"].contains($0) }
            // Tabs are "1 Fn" or "1": each digit once, in order, as its own word.
            XCTAssertEqual(digits, ["1", "2", "3", "4", "5"], "width \(w): \(title)")
            if w >= 26 { XCTAssertTrue(title.contains("3 Callers"), "width \(w): \(title)") }
            if w >= 40 { XCTAssertTrue(title.hasPrefix("perftop etl"), "width \(w): \(title)") }
            // The status row keeps the way to the help first, whatever else it must cut.
            let status = screen.split(separator: "\n", omittingEmptySubsequences: false).dropLast().last.map(String.init) ?? ""
            XCTAssertTrue(status.hasPrefix("? help"), "width \(w): \(status)")
            XCTAssertLessThanOrEqual(DisplayWidth.width(status), w, status)
        }
    }

    /// The summary's classification is made once per profile, metric, roots and rules, and made
    /// again when any of them changes; cached or not, it is the one `Triage` computes.
    func testSummaryTriageIsCachedPerProfileAndRules() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let p = session.profile(for: try runKeys(session, keys: "").0)
        let direct = Triage(p, metric: 0, sourceRoots: session.sourceRoots, rules: Triage.rules)
        let first = session.triage(of: p, metric: 0, rules: Triage.rules)
        XCTAssertEqual(first.classes.map(\.kind), direct.classes.map(\.kind))
        XCTAssertEqual(first.classes.map(\.weight), direct.classes.map(\.weight))
        XCTAssertEqual(session.triage(of: p, metric: 0, rules: Triage.rules).total, direct.total)
        // One rule that claims every frame: a new classification, not the cached one.
        var everything = Triage.rules[0]
        (everything.kind, everything.title, everything.pattern, everything.source) = ("everything", "Everything", ".", nil)
        let all = [everything]
        let claimed = session.triage(of: p, metric: 0, rules: all)
        XCTAssertEqual(claimed.classes.map(\.kind), ["everything"])
        XCTAssertEqual(claimed.total, direct.total, accuracy: 1e-9 * direct.total)
        XCTAssertEqual(session.triage(of: p, metric: 0, rules: Triage.rules).classes.map(\.kind), direct.classes.map(\.kind))
    }
}
