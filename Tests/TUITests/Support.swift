import Foundation
import XCTest
import ProfileModel
@testable import TUI

enum TUIFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let snapshotDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    static func session(_ sample: String) throws -> Session {
        let path = repoRoot.appendingPathComponent("SampleProfiles").appendingPathComponent(sample).path
        return Session(profile: try FormatRegistry.load(path: path), fileName: sample)
    }

    /// A diff session: NEW on screen, coloured by its change from BASE (`perftop diff`).
    static func diffSession(base: String, new: String, normalize: Bool? = nil) throws -> Session {
        let n = try session(new)
        n.setDiffBase(try session(base), normalize: normalize)
        return n
    }

    static func session(folded text: String, name: String = "test.txt") throws -> Session {
        Session(profile: try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: name), fileName: name)
    }
}

/// Compares `text` with `Snapshots/NAME.txt`. A missing snapshot (or PERFTOP_RECORD=1) writes
/// the file and fails, so a run can never pass without a reviewed snapshot in the repository.
func assertSnapshot(_ text: String, named name: String, file: StaticString = #filePath, line: UInt = #line) {
    let url = TUIFixtures.snapshotDir.appendingPathComponent(name + ".txt")
    let record = ProcessInfo.processInfo.environment["PERFTOP_RECORD"] == "1"
    guard !record, let old = try? String(contentsOf: url, encoding: .utf8) else {
        try? FileManager.default.createDirectory(at: TUIFixtures.snapshotDir, withIntermediateDirectories: true)
        try? text.write(to: url, atomically: true, encoding: .utf8)
        XCTFail("recorded snapshot \(name).txt; review it and run again", file: file, line: line)
        return
    }
    if old != text {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false)
        let b = text.split(separator: "\n", omittingEmptySubsequences: false)
        var diff = ""
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "<none>", y = i < b.count ? String(b[i]) : "<none>"
            if x != y { diff += "line \(i + 1):\n  - \(x)\n  + \(y)\n" }
        }
        XCTFail("snapshot \(name).txt differs (PERFTOP_RECORD=1 re-records):\n\(diff)", file: file, line: line)
    }
}

/// Runs keys through the viewer's own loop on an in-memory terminal, as `perftop view --batch`
/// does, and returns the final state and grid (for colour snapshots: `dumpRoles()`).
func runKeysGrid(_ session: Session, keys: String, width: Int = 80, height: Int = 24, options: ViewerOptions = ViewerOptions())
    throws -> (AppState, CellGrid) {
    let size = Size(width: width, height: height)
    return Viewer.batchGrid(session, size: size, keys: try Key.parse(keys), options: options)
}

/// Runs keys headlessly, as `perftop view --batch` does, and returns the state and the screen.
func runKeys(_ session: Session, keys: String, width: Int = 80, height: Int = 24, options: ViewerOptions = ViewerOptions())
    throws -> (AppState, String) {
    let (s, grid) = try runKeysGrid(session, keys: keys, width: width, height: height, options: options)
    return (s, grid.dump())
}
