import XCTest
import ProfileModel
@testable import TUI

/// Issue 17 item 7: a perf profile shows each symbol's DSO, and its comm and `pid/tid` as tree
/// roots when threads are split. Tests/Golden/perf-script/two-threads.txt is a two-thread C program
/// recorded with `perf record -g`; the expected names and shares are read from its text here.
final class PerfColumnsTests: XCTestCase {
    func testPerfFunctionsShowTheDSOAndSplitTreeShowsCommAndThreads() throws {
        let path = TUIFixtures.repoRoot.appendingPathComponent("Tests/Golden/perf-script/two-threads.txt").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var perThread: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("\t") {
            let w = line.split(separator: " ")
            perThread[String(w[1]), default: 0] += Double(w[3])!
        }
        let total = perThread.values.reduce(0, +)
        let session = Session(profile: try FormatRegistry.load(path: path), fileName: "two-threads.txt")

        let (_, functions) = try runKeys(session, keys: "1", width: 120, height: 16)
        let spin = try XCTUnwrap(functions.split(separator: "\n").first { $0.contains(" spin ") }, functions)
        XCTAssertTrue(spin.contains("/tmp/j-rec/two-threads"), String(spin))
        let start = try XCTUnwrap(functions.split(separator: "\n").first { $0.contains("start_thread") }, functions)
        XCTAssertTrue(start.contains("/usr/lib/x86_64-linux-gnu/libc.so.6"), String(start))
        assertSnapshot(functions, named: "two-threads.perf-functions-120x16")

        let (_, tree) = try runKeys(session, keys: "2t", width: 120, height: 16)
        XCTAssertTrue(tree.contains("two-threads"), tree)
        for (ids, w) in perThread {
            let parts = ids.split(separator: "/")
            let row = try XCTUnwrap(tree.split(separator: "\n").first { $0.contains("pid \(parts[0]) tid \(parts[1])") }, tree)
            XCTAssertTrue(row.contains(String(format: "%.1f%%", 100 * w / total)), String(row))
        }
        assertSnapshot(tree, named: "two-threads.perf-tree-split-120x16")
    }

    /// `e` on a perf function does not open its DSO (an ELF file) in the editor; it says why.
    func testEditOnAFunctionInABinarySaysSo() throws {
        let path = TUIFixtures.repoRoot.appendingPathComponent("Tests/Golden/perf-script/two-threads.txt").path
        let libc = "/usr/lib/x86_64-linux-gnu/libc.so.6"
        guard let h = FileHandle(forReadingAtPath: libc) else { print("SKIPPED: \(libc) is absent"); return }
        let head = [UInt8](try h.read(upToCount: 4) ?? Data())
        try h.close()
        XCTAssertEqual(head, [0x7F, 0x45, 0x4C, 0x46])
        let session = Session(profile: try FormatRegistry.load(path: path), fileName: "two-threads.txt")
        let (state, _) = try runKeys(session, keys: "1/^start_thread$<Enter>e", width: 120, height: 16)
        XCTAssertNil(state.editRequest)
        XCTAssertEqual(state.message, "\(libc) is a binary, not a source file")
    }
}
