import XCTest
import ProfileModel
@testable import TUI

/// Whole screens as text, at 80x24 and 160x48, for every view on real sample profiles.
/// The snapshots live in Tests/TUITests/Snapshots; PERFTOP_RECORD=1 rewrites them.
final class SnapshotTests: XCTestCase {
    static let samples = ["etl.prof", "etl.pyspy.txt", "threads.pyspy.txt", "etl.austin", "etl.speedscope.json"]
    static let views: [(String, String)] = [
        ("open", ""), ("functions", "1"), ("callers", "3"), ("inverted", "4"), ("flame", "5"),
    ]

    func testEveryViewAtTwoSizes() throws {
        for sample in Self.samples {
            let session = try TUIFixtures.session(sample)
            for (name, keys) in Self.views {
                for (w, h) in [(80, 24), (160, 48)] {
                    let (_, screen) = try runKeys(session, keys: keys, width: w, height: h)
                    assertSnapshot(screen, named: "\(sample)-\(name)-\(w)x\(h)")
                }
            }
        }
    }

    func testInteractions() throws {
        let cases: [(String, String, String, ViewerOptions)] = [
            ("etl.prof", "search-json", "/json<Enter>", ViewerOptions()),
            ("etl.prof", "search-next", "/json<Enter>nn", ViewerOptions()),
            ("etl.pyspy.txt", "flame-zoom", "5k<Enter>", ViewerOptions()),
            ("etl.pyspy.txt", "flame-zoom-out", "5k<Enter><Esc>", ViewerOptions()),
            ("etl.prof", "sort-self", "1s", ViewerOptions()),
            ("etl.prof", "sort-calls-reversed", "1ssS", ViewerOptions()),
            ("etl.prof", "sort-menu", "1o", ViewerOptions()),
            ("etl.prof", "help", "?", ViewerOptions()),
            ("etl.pyspy.txt", "expand-all", "g*", ViewerOptions()),
            ("etl.pyspy.txt", "collapse-all", "-", ViewerOptions()),
            ("threads.pyspy.txt", "threads-split", "t", ViewerOptions()),
            ("etl.pyspy.txt", "lines-split", "L", ViewerOptions()),
            ("etl.pyspy.txt", "focus-parse", "/^parse$<Enter>f", ViewerOptions()),
            ("etl.pyspy.txt", "hide-main", "/^main$<Enter>x", ViewerOptions()),
            ("etl.prof", "callers-enter", "3k<Enter>", ViewerOptions()),
            ("etl.pyspy.txt", "summary", "0", ViewerOptions()),
            ("etl.prof", "summary", "0", ViewerOptions()),
        ]
        for (sample, name, keys, options) in cases {
            let (_, screen) = try runKeys(try TUIFixtures.session(sample), keys: keys, options: options)
            assertSnapshot(screen, named: "\(sample)-\(name)")
        }
    }

    /// Diff, summary and source views at 80x24: in colour (the text, then a letter per cell
    /// for its role, so red/blue is checked too) and in monochrome ASCII (+/- marks).
    func testDiffSummaryAndSourceInColourAndMonochrome() throws {
        let pyspy = { try TUIFixtures.diffSession(base: "etl.pyspy.txt", new: "etl-fixed.pyspy.txt") }
        let prof = { try TUIFixtures.diffSession(base: "etl.prof", new: "etl-fixed.prof") }
        let plain = {
            let s = try TUIFixtures.session("etl.pyspy.txt")
            s.sourceRoots = [TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/workload").path]
            return s
        }
        let cases: [(String, () throws -> Session, String)] = [
            ("diff-pyspy-tree", pyspy, ""), ("diff-pyspy-functions", pyspy, "1"), ("diff-pyspy-functions-end", pyspy, "1G"),
            ("diff-pyspy-flame", pyspy, "5"), ("diff-pyspy-callers", pyspy, "1/^main$<Enter>3"), ("diff-pyspy-summary", pyspy, "0"), ("diff-pyspy-inverted", pyspy, "4"), ("diff-pyspy-absolute", pyspy, "%"),
            ("diff-prof-tree", prof, ""), ("diff-prof-functions-improvements", prof, "1Sg"), ("diff-prof-flame", prof, "5"),
            ("summary", plain, "0"), ("source", plain, "1/^dedupe<Enter>v"),
        ]
        var mono = ViewerOptions()
        mono.ascii = true
        mono.noColor = true
        for (name, make, keys) in cases {
            let (_, grid) = try runKeysGrid(try make(), keys: keys)
            assertSnapshot(grid.dump() + "--- roles ---\n" + grid.dumpRoles(), named: "colour-\(name)")
            let (_, m) = try runKeysGrid(try make(), keys: keys, options: mono)
            let text = m.dump()
            XCTAssertTrue(text.unicodeScalars.allSatisfy { $0.isASCII }, "\(name) has non-ASCII:\n\(text)")
            assertSnapshot(text, named: "mono-\(name)")
        }
    }

    func testASCIIMode() throws {
        var o = ViewerOptions()
        o.ascii = true
        o.noColor = true
        for (name, keys) in [("tree", ""), ("flame", "5"), ("functions", "1"), ("help", "?")] {
            let (_, screen) = try runKeys(try TUIFixtures.session("etl.pyspy.txt"), keys: keys, options: o)
            XCTAssertTrue(screen.unicodeScalars.allSatisfy { $0.isASCII }, "\(name) has non-ASCII:\n\(screen)")
            assertSnapshot(screen, named: "etl.pyspy.txt-ascii-\(name)")
        }
    }
}

final class SourceViewTests: XCTestCase {
    /// v shows the selected function's source with samples per line, scrolled to the hottest.
    func testSourceViewCentresTheHottestLine() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        session.sourceRoots = [TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/workload").path]
        let (_, screen) = try runKeys(session, keys: "v")
        XCTAssertTrue(screen.contains("if key in seen:"), screen)
        XCTAssertTrue(screen.contains("275"), "the hot line carries its samples:\n\(screen)")
        assertSnapshot(screen, named: "etl.pyspy.txt-source")
        // Without the file: the per-line table, hottest first, and why.
        let bare = try TUIFixtures.session("etl.pyspy.txt")
        bare.sourceRoots = ["/nonexistent"]
        let (_, table) = try runKeys(bare, keys: "v")
        XCTAssertTrue(table.contains("source not found"), table)
        assertSnapshot(table, named: "etl.pyspy.txt-source-missing")
    }
}
