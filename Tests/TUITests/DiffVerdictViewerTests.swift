import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// The viewer on repeated runs (`perftop diff A... --vs B...`): only the changes the runs call
/// significant are coloured, the rest is neutral and marked `~` (visible in mono), the status
/// line names the runs and the method, and it opens on the largest significant change.
final class DiffVerdictViewerTests: XCTestCase {
    static func load(_ path: String) throws -> Profile {
        try FormatRegistry.load(path: TUIFixtures.repoRoot.appendingPathComponent(path).path, mergeLines: true)
            .merging(threads: true, lines: true)
    }

    /// The median runs on screen, as `perftop diff` picks them, with verdicts from all runs.
    func session(_ ext: String) throws -> Session {
        let bf = (1...10).map { "SampleProfiles/runs/before/run\($0).\(ext)" }, nf = (1...4).map { "SampleProfiles/runs/after/run\($0).\(ext)" }
        let d = try RunsDiff(base: try bf.map(Self.load), baseFiles: bf, new: try nf.map(Self.load), newFiles: nf)
        func median(_ f: [String], _ t: [Double]) -> String { f[t.indices.sorted { t[$0] < t[$1] }[(t.count - 1) / 2]] }
        func s(_ file: String) throws -> Session {
            Session(profile: try FormatRegistry.load(path: TUIFixtures.repoRoot.appendingPathComponent(file).path, mergeLines: true), fileName: file)
        }
        let n = try s(median(nf, d.new.totals))
        n.setDiffBase(try s(median(bf, d.base.totals)), normalize: false)
        n.setDiffVerdicts(DiffVerdicts(d))
        return n
    }

    func testOnlySignificantChangesAreColouredAndItOpensOnTheFix() throws {
        for ext in ["pyspy.txt", "prof"] {
            let n = try session(ext)
            let (state, grid) = try runKeysGrid(n, keys: "1", width: 110, height: 24)
            let text = grid.dump()
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            XCTAssertTrue(lines.contains { $0.contains("10v4 runs: rank test") }, text)
            // The selected row (">") is the fix.
            let selected = try XCTUnwrap(lines.first { $0.hasPrefix(">") }, text)
            XCTAssertTrue(selected.contains("drop_blocked"), "\(ext): \(selected)")
            _ = state
            // Every other row is neutral: no grew/shrank role anywhere on it, and a `~` mark.
            let changeRoles: Set<Role> = [.grew1, .grew2, .grew3, .shrank1, .shrank2, .shrank3]
            var neutralRows = 0
            for y in 2..<(grid.height - 2) where !lines[y].isEmpty && !lines[y].hasPrefix(">") {
                let roles = Set((0..<grid.width).map { grid[$0, y].role })
                XCTAssertTrue(roles.isDisjoint(with: changeRoles), "\(ext) row \(y): \(lines[y])")
                XCTAssertTrue(lines[y].contains("~ "), "\(ext) row \(y) has the mono mark: \(lines[y])")
                neutralRows += 1
            }
            XCTAssertGreaterThan(neutralRows, 5)
        }
    }

    func testSnapshotsRoleMapAndMono() throws {
        let n = try session("pyspy.txt")
        let (_, grid) = try runKeysGrid(n, keys: "", width: 100, height: 22)
        assertSnapshot(grid.dump() + "--- roles ---\n" + grid.dumpRoles(), named: "colour-diff-runs-pyspy-tree")
        var mono = ViewerOptions(); mono.noColor = true; mono.ascii = true
        let (_, flat) = try runKeysGrid(try session("pyspy.txt"), keys: "5", width: 100, height: 22, options: mono)
        assertSnapshot(flat.dump(), named: "mono-diff-runs-pyspy-flame")
        let (_, table) = try runKeysGrid(try session("prof"), keys: "1", width: 100, height: 22, options: mono)
        assertSnapshot(table.dump(), named: "mono-diff-runs-prof-functions")
    }
}
