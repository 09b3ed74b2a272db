import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// Issue 20's transform stack in the viewer, on the recursive sample: undo gives back the very
/// screen before, the numbers after a focus or a drop agree with a count over the raw folded
/// lines (done here, not by perftop), and the minimum-percent filter hides what it says.
final class TransformStackTests: XCTestCase {
    static let sample = "recursive.pyspy.txt"

    /// The raw py-spy stacks: (function names root first, count), frameless lines left out as
    /// perftop leaves them out of a folded file's total.
    static func rawStacks() throws -> [([String], Double)] {
        let url = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/\(sample)")
        let text = try String(contentsOf: url, encoding: .utf8)
        var out: [([String], Double)] = []
        for line in text.split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let n = Double(line[line.index(after: space)...]) else { continue }
            let stack = line[..<space]
            guard !stack.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let names = stack.split(separator: ";").map { f -> String in
                if let r = f.range(of: " (", options: .backwards) { return String(f[..<r.lowerBound]) }
                return String(f)
            }
            out.append((names, n))
        }
        return out
    }

    func testUndoReturnsExactlyThePreviousScreen() throws {
        // Each transform key after a selection, then u (or Backspace): the screen and the
        // state's views are those before the key, cell for cell.
        let setups = ["/^walk$<Enter>", "/^run_stages$<Enter>", "/^nap$<Enter>", "/^Thread.join$<Enter>"]
        let keys = ["f", "z", "x", "d", "r", "R", "C"]
        for setup in setups {
            let (s0, before) = try runKeys(try TUIFixtures.session(Self.sample), keys: setup)
            for k in keys {
                for undo in ["u", "<BS>"] {
                    let (s1, pushed) = try runKeys(try TUIFixtures.session(Self.sample), keys: setup + k)
                    XCTAssertEqual(s1.transforms.count, 1, "\(setup)\(k) pushes one step: \(pushed)")
                    XCTAssertNotEqual(pushed, before, "\(setup)\(k) changes the screen")
                    let (s2, after) = try runKeys(try TUIFixtures.session(Self.sample), keys: setup + k + undo)
                    XCTAssertEqual(after, before, "\(setup)\(k)\(undo)")
                    XCTAssertEqual(s2.tree, s0.tree)
                    XCTAssertEqual(s2.selectedFunction, s0.selectedFunction)
                    XCTAssertTrue(s2.transforms.isEmpty)
                }
            }
        }
        // Two steps, one undone: the screen after the first step; F undoes them all.
        let one = "/^walk$<Enter>r"
        let (_, first) = try runKeys(try TUIFixtures.session(Self.sample), keys: one)
        let (_, back) = try runKeys(try TUIFixtures.session(Self.sample), keys: one + "/^run_batch$<Enter>fu")
        let (_, searched) = try runKeys(try TUIFixtures.session(Self.sample), keys: one + "/^run_batch$<Enter>")
        XCTAssertEqual(back, searched)
        XCTAssertNotEqual(first, searched)
        let (all, _) = try runKeys(try TUIFixtures.session(Self.sample), keys: one + "/^run_batch$<Enter>fF")
        XCTAssertTrue(all.transforms.isEmpty)
    }

    /// X takes the merges out of the middle of the stack; the steps after keep applying, and
    /// undoing one whose saved screen belonged to the old stack carries the selection over instead.
    func testUnmergingKeepsTheOtherSteps() throws {
        let session = try TUIFixtures.session(Self.sample)
        let (s, screen) = try runKeys(session, keys: "/^nap$<Enter>x/^walk$<Enter>rX")
        guard case .collapseRecursion = try XCTUnwrap(s.transforms.first), s.transforms.count == 1 else {
            return XCTFail("expected only the collapse left: \(s.transforms)\n\(screen)")
        }
        XCTAssertEqual(s.undoMemos.count, 1)
        XCTAssertNil(s.undoMemos[0] ?? nil)
        let (s2, after) = try runKeys(try TUIFixtures.session(Self.sample), keys: "/^nap$<Enter>x/^walk$<Enter>rXu5<Down>4<Down>")
        XCTAssertTrue(s2.transforms.isEmpty, after)
        let p = session.profile(for: s2)
        XCTAssertTrue(s2.tree.selected > 0 && Int(s2.tree.selected) < p.tree.count)
    }

    /// Undo is a lookup: the session hands back the very profile it showed before the step.
    func testUndoDerivesNothing() throws {
        let session = try TUIFixtures.session(Self.sample)
        let (s0, _) = try runKeys(session, keys: "/^walk$<Enter>")
        let p0 = session.profile(for: s0)
        var s = s0
        let size = Size(width: 80, height: 24)
        _ = s.reduce(.char("r"), deriver: session, size: size)
        XCTAssertFalse(session.profile(for: s) === p0)
        _ = s.reduce(.char("u"), deriver: session, size: size)
        XCTAssertTrue(session.profile(for: s) === p0)
    }

    func testFocusAndDropAgreeWithTheRawStacks() throws {
        let raw = try Self.rawStacks()
        let total = raw.reduce(0) { $0 + $1.1 }
        func through(_ f: String, _ stacks: [([String], Double)]) -> [([String], Double)] { stacks.filter { $0.0.contains(f) } }
        // Focus on run_batch: the total is the samples through it; the callout's share is
        // stage_117's leaf samples among them; the detail line gives the share of the whole.
        let kept = through("run_batch", raw)
        let keptTotal = kept.reduce(0) { $0 + $1.1 }
        let leaf117 = kept.filter { $0.0.last == "stage_117" }.reduce(0) { $0 + $1.1 }
        let (s, screen) = try runKeys(try TUIFixtures.session(Self.sample), keys: "/^run_batch$<Enter>f<Down>")
        XCTAssertEqual(s.transforms, [.focusFunction(s.focus!)])
        let status = screen.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(status.hasSuffix("total \(Int(keptTotal))") || status.contains("total \(Int(keptTotal)) "), status)
        XCTAssertTrue(screen.contains("top self: stage_117 \(ValueFormat.percent(leaf117, of: keptTotal))"), screen)
        XCTAssertTrue(screen.contains("focus: run_batch   u undoes"), screen)
        let session = try TUIFixtures.session(Self.sample)
        let (s2, screen2) = try runKeys(session, keys: "/^run_batch$<Enter>f<Down>")
        let p = session.profile(for: s2)
        let sel = s2.tree.selected
        let w = p.tree.totalWeight[0][Int(sel)]
        XCTAssertTrue(screen2.contains("\(ValueFormat.percent(w, of: total)) of whole"), screen2)
        // Dropping nap: what is left is the samples that never pass through it.
        let left = raw.filter { !$0.0.contains("nap") }.reduce(0) { $0 + $1.1 }
        let (_, dropped) = try runKeys(try TUIFixtures.session(Self.sample), keys: "/^nap$<Enter>d<Down>")
        XCTAssertTrue(dropped.contains("total \(Int(left))"), dropped)
        XCTAssertTrue(dropped.contains("drop: nap"), dropped)
    }

    func testMinimumPercentHidesSmallRowsInTreesAndTable() throws {
        func percents(_ screen: String, column: Range<Int>) -> [Double] {
            screen.split(separator: "\n").dropFirst(2).dropLast(2).compactMap { line in
                let chars = Array(line)
                guard chars.count >= column.upperBound else { return nil }
                let cell = String(chars[column]).trimmingCharacters(in: CharacterSet(charactersIn: " >%"))
                return Double(cell)
            }
        }
        // The cProfile recording's estimated tree opens with rows of 0.0%.
        let all = try runKeys(try TUIFixtures.session("recursive.prof"), keys: "").1
        XCTAssertTrue(percents(all, column: 0..<8).contains { $0 < 2 }, "without the filter small rows show:\n\(all)")
        let (s, filtered) = try runKeys(try TUIFixtures.session("recursive.prof"), keys: "MMM")
        XCTAssertEqual(s.minPercent, 2)
        let shown = percents(filtered, column: 0..<8)
        XCTAssertFalse(shown.isEmpty)
        XCTAssertTrue(shown.allSatisfy { $0 >= 2 }, filtered)
        let (_, status) = try runKeys(try TUIFixtures.session("recursive.prof"), keys: "MMM<Down>")
        XCTAssertTrue(status.contains("min 2.0%"), status)
        // The functions table: every row's total share (its fourth column) reaches 2%.
        let (_, table) = try runKeys(try TUIFixtures.session(Self.sample), keys: "MMM1")
        let session = try TUIFixtures.session(Self.sample)
        let (st, _) = try runKeys(session, keys: "MMM1")
        let p = session.profile(for: st)
        let rows = session.functionRows(for: st)
        XCTAssertFalse(rows.isEmpty)
        for f in rows { XCTAssertGreaterThanOrEqual(p.functions.totalWeight[0][Int(f)] / p.total(metric: 0), 0.02, table) }
        // Cycling on comes back to no filter.
        let (s5, _) = try runKeys(try TUIFixtures.session(Self.sample), keys: "MMMMM")
        XCTAssertNil(s5.minPercent)
    }

    /// The functions table opens at the top of its sort and the inverted tree on its first root,
    /// whatever the call tree had selected deep down.
    func testViewsOpenAtTheirOwnStart() throws {
        for sample in ["recursive.pyspy.txt", "recursive.austin.gz", "recursive.speedscope.json", "recursive.prof"] {
            let (s, _) = try runKeys(try TUIFixtures.session(sample), keys: "1")
            XCTAssertEqual(s.fnTop, 0, sample)
            XCTAssertLessThan(s.fnSelected, 20, sample)
            let session = try TUIFixtures.session(sample)
            let (si, _) = try runKeys(session, keys: "4")
            let inv = session.inverted(for: si)
            XCTAssertEqual(si.inverted.top, inv.tree.firstChild(0), sample)
        }
    }

    /// The breadcrumb in colour (a role letter per cell) and in monochrome ASCII.
    func testBreadcrumbInColourAndMonochrome() throws {
        let keys = "/^walk$<Enter>r/^run_batch$<Enter>f/^nap$<Enter>x"
        let (s, grid) = try runKeysGrid(try TUIFixtures.session(Self.sample), keys: keys)
        XCTAssertEqual(s.transforms.count, 3)
        assertSnapshot(grid.dump() + "--- roles ---\n" + grid.dumpRoles(), named: "colour-breadcrumb")
        var mono = ViewerOptions()
        mono.ascii = true
        mono.noColor = true
        let (_, m) = try runKeysGrid(try TUIFixtures.session(Self.sample), keys: keys, options: mono)
        let text = m.dump()
        XCTAssertTrue(text.unicodeScalars.allSatisfy { $0.isASCII }, text)
        XCTAssertTrue(text.contains("collapse recursion: walk > focus: run_batch > merge: nap"), text)
        assertSnapshot(text, named: "mono-breadcrumb")
    }

    func testAFailedStepIsSkippedAndTheDeriverSaysWhy() throws {
        // A step that cannot apply (an unbalanced regular expression) leaves the profile as it
        // was before it, and the deriver names it; a stack that applies names nothing.
        let session = try TUIFixtures.session(Self.sample)
        var s = Viewer.initialState(session, size: Size(width: 80, height: 24), options: ViewerOptions())
        let before = session.profile(for: s)
        XCTAssertNil(session.transformFailure(for: s))
        s.transforms = [.collapseFrames(.regex("(walk"))]
        let after = session.profile(for: s)
        XCTAssertEqual(after.total(metric: 0), before.total(metric: 0))
        XCTAssertEqual(after.tree.count, before.tree.count, "the failed step is skipped")
        let why = try XCTUnwrap(session.transformFailure(for: s))
        XCTAssertTrue(why.contains("(walk"), why)
        s.transforms = [.collapseRecursion(nil)]
        XCTAssertNil(session.transformFailure(for: s))
    }
}

/// Key sequences the key fuzzing of stop 34 found: a step made in one view, then a switch, an
/// undo or a page key in another, whose state was kept from another tree.
final class StaleViewStateTests: XCTestCase {
    static let samples = ["etl.pyspy.txt", "etl-fixed.pyspy.txt", "calls.prof", "etl.prof", "recursive.pyspy.txt", "etl.austin"]

    func testStepsThenOtherViewsNeverLoseTheSelection() throws {
        // Each crashed (a node id of the tree before the step, or of none, used as an index).
        for sample in Self.samples {
            for keys in ["f<Tab>d<S-Tab>", "d4F<C-b>", "d3<Tab>F<C-b>", "d3<Tab>u<C-b>", "f<Tab>d<S-Tab><C-b><Up><Down>"] {
                let (_, screen) = try runKeys(try TUIFixtures.session(sample), keys: keys)
                let lines = screen.split(separator: "\n")
                XCTAssertTrue(lines.contains { $0.hasPrefix(">") } || screen.contains("(empty profile)"), "\(sample) \(keys):\n\(screen)")
            }
        }
    }

    /// After an undo back to a view first opened after the step, its cursor row and the status
    /// line name the same function.
    func testUndoIntoAViewOpenedAfterTheStepAgreesWithTheStatusLine() throws {
        for sample in ["etl-fixed.pyspy.txt", "etl.pyspy.txt"] {
            for keys in ["d1u", "C1u", "x1u", "C1F"] {
                let (s, screen) = try runKeys(try TUIFixtures.session(sample), keys: keys, width: 80, height: 8)
                let session = try TUIFixtures.session(sample)
                let p = session.profile(for: s)
                let f = try XCTUnwrap(s.selectedFunction, "\(sample) \(keys)")
                let name = p.frames.name(ofFunction: f)
                let cursor = try XCTUnwrap(screen.split(separator: "\n").first { $0.hasPrefix(">") }, screen)
                XCTAssertTrue(cursor.contains(name), "\(sample) \(keys): cursor \(cursor), selected \(name)\n\(screen)")
            }
        }
    }

    /// Shares past 999.9% (a profile whose weights partly cancel) keep every digit beside the
    /// selection marker: without the decimal, never cut.
    func testLargeAndNegativeSharesKeepTheirDigits() throws {
        let text = "P1;T1;a.py:main:1 10\nP1;T1;a.py:main:1;a.py:gone:2 -8\n"
        let session = Session(profile: try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "neg.austin"), fileName: "neg.austin")
        let (_, screen) = try runKeys(session, keys: "2/gone<Enter>", width: 60, height: 8)
        let row = try XCTUnwrap(screen.split(separator: "\n").first { $0.hasPrefix(">") }, screen)
        XCTAssertTrue(row.hasPrefix(">  -400%") || row.hasPrefix("> -400%"), "\(row)")
        XCTAssertEqual(ValueFormat.percent(18.789, of: 1, width: 6), "1879%")
        XCTAssertEqual(ValueFormat.percent(-4, of: 1, width: 6), "-400%")
        XCTAssertEqual(ValueFormat.percent(5000, of: 1, width: 6), ">9999%")
        XCTAssertEqual(ValueFormat.percent(-5000, of: 1, width: 6), "<-999%")
        XCTAssertEqual(ValueFormat.percent(0.5, of: 1, width: 6), "50.0%")
    }
}
