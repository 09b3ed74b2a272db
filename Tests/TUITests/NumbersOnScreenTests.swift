import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// Issue 17: every number the viewer shows is right and whole, on real sample profiles.
final class NumbersOnScreenTests: XCTestCase {
    static var sampleFiles: [String] {
        let dir = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { name in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir)
            return !isDir.boolValue && !name.hasSuffix(".md") && !name.hasSuffix(".sh")
        }.sorted()
    }

    /// Seconds per unit of a metric (`report --json`'s "unit") or of a column suffix.
    static func seconds(_ unit: String) -> Double? {
        switch unit {
        case "seconds", "s": 1
        case "milliseconds", "ms": 1e-3
        case "microseconds", "us", "µs": 1e-6
        case "nanoseconds", "ns": 1e-9
        default: nil
        }
    }

    /// For every sample profile, every row of the Functions view (tall and wide enough to show
    /// all of them whole) against `perftop report --json` of the same file: the same functions,
    /// and each value, percentage and call count is the report's number, rounded as shown.
    /// The numbers are parsed off the screen and checked here, not with the viewer's formatter.
    func testFunctionsViewShowsTheReportsNumbers() throws {
        let files = Self.sampleFiles
        XCTAssertGreaterThanOrEqual(files.count, 10, "\(files)")
        for file in files {
            let path = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/" + file).path
            // What `perftop report --json FILE` prints (lines merged, threads merged).
            let reportProfile = try FormatRegistry.load(path: path).merging(threads: true, lines: true)
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(Report.json(reportProfile).utf8)) as? [String: Any])
            let unit = try XCTUnwrap(json["unit"] as? String), total = try XCTUnwrap(json["total"] as? Double)
            let report = try XCTUnwrap(json["functions"] as? [[String: Any]])
            var byKey: [String: [[String: Any]]] = [:]
            for r in report {
                let name = r["name"] as! String
                let loc = (r["file"] as? String).map { f in (r["line"] as? Int).map { "\(f):\($0)" } ?? f } ?? ""
                byKey[loc.isEmpty ? name : name + "  " + loc, default: []].append(r)
            }

            let session = try TUIFixtures.session(file)
            let size = Size(width: 300, height: report.count + 6)
            let (_, screen) = try runKeys(session, keys: "1", width: size.width, height: size.height)
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // Only the table body holds rows: the detail and status lines below it can split into
            // as many words before the name column as a row has cells (a short path does).
            let layout = Layout(size: size)
            XCTAssertGreaterThanOrEqual(lines.count, layout.bodyTop + layout.bodyHeight, file)
            let body = lines[layout.bodyTop..<min(lines.count, layout.bodyTop + layout.bodyHeight)]
            let heading = lines[1]
            let headings = heading.split(separator: " ").map(String.init)
            let nameX = try XCTUnwrap(heading.range(of: "function").map { heading.distance(from: heading.startIndex, to: $0.lowerBound) })
            let valueColumns = headings.prefix { !$0.hasPrefix("function") }.map { $0.replacingOccurrences(of: "▼", with: "") }
            let suffix = valueColumns.first.flatMap { h in h.firstIndex(of: "(").map { String(h[h.index(after: $0)..<h.index(before: h.endIndex)]) } } ?? ""
            // Report units per shown unit.
            var factor = 1.0
            if let a = Self.seconds(suffix), let b = Self.seconds(unit) { factor = a / b }
            else if suffix == "KiB" { factor = 1024 } else if suffix == "MiB" { factor = 1_048_576 } else if suffix == "GiB" { factor = 1_073_741_824 }
            var shown = 0
            for line in body {
                let chars = Array(line)
                guard chars.count > nameX else { continue }
                let key = String(chars[nameX...])
                let cells = String(chars[..<nameX]).replacingOccurrences(of: ">", with: " ").split(separator: " ").map(String.init)
                guard cells.count == valueColumns.count else { continue }
                shown += 1
                // The screen shows short paths (module-relative, the project's prefix left out):
                // each is the end of the report's full `file:line`.
                var keys = byKey[key] != nil ? [key] : []
                if keys.isEmpty, let r = key.range(of: "  ") {
                    let name = String(key[..<r.lowerBound]), loc = String(key[r.upperBound...])
                    keys = byKey.keys.filter { k in
                        guard let kr = k.range(of: "  ") else { return false }
                        let full = String(k[kr.upperBound...])
                        return String(k[..<kr.lowerBound]) == name && (full == loc || full.hasSuffix("/" + loc))
                    }.sorted()
                }
                guard keys.contains(where: { !(byKey[$0] ?? []).isEmpty }) else {
                    XCTFail("\(file): row '\(key)' is not in the report"); continue
                }
                // Functions can share a name and location: any one report row must match.
                var found = false
                for k in keys {
                    guard let i = byKey[k]!.firstIndex(where: { r in
                        zip(valueColumns, cells).allSatisfy { column, text in
                            Self.matches(text, column: column, row: r, total: total, factor: factor)
                        }
                    }) else { continue }
                    byKey[k]!.remove(at: i)
                    found = true
                    break
                }
                if !found {
                    XCTFail("\(file): '\(key)' shows \(cells) under \(valueColumns); the report has \(keys.flatMap { byKey[$0]! })")
                }
            }
            // And no function with weight or calls is missing from the screen.
            let missing = byKey.filter { _, rows in
                rows.contains { ($0["self"] as? Double ?? 0) != 0 || ($0["total"] as? Double ?? 0) != 0 || ($0["calls"] as? Int ?? 0) > 0 }
            }
            XCTAssertTrue(missing.isEmpty, "\(file): not on screen: \(missing.keys.sorted())")
            XCTAssertGreaterThan(shown, 0, file)
        }
    }

    /// Whether the cell `text` under `column` is the report row's number as shown: a value
    /// rounded to its decimals in the column's unit, a percentage of the total to 0.1, or the
    /// call count whole (`calls/primitive` where they differ, as pstats prints them).
    static func matches(_ text: String, column: String, row r: [String: Any], total: Double, factor: Double) -> Bool {
        let selfV = r["self"] as? Double ?? 0, totalV = r["total"] as? Double ?? 0
        func value(_ expected: Double) -> Bool {
            guard let v = Double(text) else { return false }
            let decimals = text.split(separator: ".").dropFirst().first?.count ?? 0
            return abs(v * factor - expected) <= 0.5 * pow(10, -Double(decimals)) * factor * (1 + 1e-9) + 1e-12
        }
        func percent(_ expected: Double) -> Bool {
            guard text.hasSuffix("%"), let v = Double(text.dropLast()), total != 0 else { return text == "-" && total == 0 }
            return abs(v - expected / total * 100) <= 0.05 + 1e-9
        }
        if column.hasPrefix("self%") { return percent(selfV) }
        if column.hasPrefix("total%") { return percent(totalV) }
        if column.hasPrefix("self") { return value(selfV) }
        if column.hasPrefix("total") { return value(totalV) }
        if column.hasPrefix("calls") {
            guard let c = r["calls"] as? Int else { return text.isEmpty }
            let p = r["primitive_calls"] as? Int ?? c
            return text == (c == p ? "\(c)" : "\(c)/\(p)")
        }
        return false
    }

    /// Item 1: call counts wider than the old 12-column field are shown whole at 80 columns
    /// (Python's pstats prints `2412000/12000` for `walk` in calls.prof), and abbreviated
    /// visibly, not cut, when the terminal is too narrow for them.
    func testCallCountsAreNeverCut() throws {
        let session = try TUIFixtures.session("calls.prof")
        let (_, wide) = try runKeys(session, keys: "1", width: 80, height: 24)
        let walk = try XCTUnwrap(wide.split(separator: "\n").first { $0.contains("walk") })
        XCTAssertTrue(walk.contains(" 2412000/12000 "), String(walk))
        XCTAssertTrue(wide.contains(" 2400000 "), wide)
        assertSnapshot(wide, named: "calls.prof-functions-80x24")
        let (_, narrow) = try runKeys(session, keys: "1", width: 50, height: 12)
        let row = try XCTUnwrap(narrow.split(separator: "\n").first { $0.contains("walk") })
        XCTAssertTrue(row.contains(" 2.41M/12.0K "), String(row))
        XCTAssertFalse(row.contains("2412000/1200 "), String(row))
        assertSnapshot(narrow, named: "calls.prof-functions-50x12")
        XCTAssertEqual(FunctionsView.CallsColumn.abbreviated(20_800_848), "20.8M")
        XCTAssertEqual(FunctionsView.CallsColumn.abbreviated(4_987_224), "4.99M")
        XCTAssertEqual(FunctionsView.CallsColumn.abbreviated(999_999), "1.00M")
        XCTAssertEqual(FunctionsView.CallsColumn.abbreviated(9_999), "9999")
    }

    /// Item 6: `v` on a pstats function (no executing lines recorded) centres its definition
    /// line (pstats: `workload/etl.py:57(dedupe)`) instead of showing line 1.
    func testSourceViewOfPstatsCentresTheDefinition() throws {
        let session = try TUIFixtures.session("etl.prof")
        session.sourceRoots = [TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles").path]
        let (s, screen) = try runKeys(session, keys: "1/^dedupe$<Enter>v")
        let p = session.profile(for: s)
        XCTAssertEqual(p.frames.line(ofFunction: try XCTUnwrap(s.selectedFunction)), 57)
        let rows = screen.split(separator: "\n", omittingEmptySubsequences: false)
        let marked = try XCTUnwrap(rows.firstIndex { $0.contains("57▶") }, screen)
        XCTAssertTrue(rows[marked].contains("def dedupe"), screen)
        XCTAssertTrue((8...14).contains(marked), "the definition is near the middle, row \(marked):\n\(screen)")
        XCTAssertFalse(rows.contains { $0.hasSuffix("     1  \"\"\"") }, screen)
        assertSnapshot(screen, named: "etl.prof-source-definition")
    }

    /// Item 11: ▲ by name lists A→Z, as `perftop report --sort name`; a format without call
    /// counts offers no calls column to sort by (s goes total → self → name).
    func testNameSortIsAToZAndCallsOnlyWhereRecorded() throws {
        for (file, keys) in [("etl.prof", "1sss"), ("etl.pyspy.txt", "1ss")] {
            let session = try TUIFixtures.session(file)
            let (s, screen) = try runKeys(session, keys: keys, width: 120, height: 40)
            XCTAssertEqual(s.sort, .name, file)
            XCTAssertTrue(screen.contains("function▲"), screen)
            let p = session.profile(for: s)
            let names = session.functionRows(for: s).map { p.frames.name(ofFunction: $0) }
            XCTAssertEqual(names, names.sorted(), file)
            let report = Report.rows(p, metric: 0, sort: .name).filter { r in names.contains(r.name) }.map(\.name)
            XCTAssertEqual(Array(report.prefix(names.count)), names, file)
        }
        let (_, screen) = try runKeys(try TUIFixtures.session("etl.pyspy.txt"), keys: "1ss")
        assertSnapshot(screen, named: "etl.pyspy.txt-sort-name")
        let (_, menu) = try runKeys(try TUIFixtures.session("etl.pyspy.txt"), keys: "1o")
        XCTAssertFalse(menu.contains("calls"), menu)
    }

    /// Item 12: a small terminal keeps names readable, and long help, hints and detail lines
    /// wrap or lose whole facts instead of cutting numbers.
    func testSmallTerminalsKeepNamesAndNumbers() throws {
        let session = try TUIFixtures.session("etl.prof")
        let (_, small) = try runKeys(session, keys: "1", width: 40, height: 12)
        XCTAssertTrue(small.contains("dedupe  "), small)
        assertSnapshot(small, named: "etl.prof-functions-40x12")
        let (_, tiny) = try runKeys(session, keys: "1", width: 20, height: 8)
        XCTAssertTrue(tiny.contains("Too narrow"), tiny)
        // The detail line at 80 columns keeps the self value whole (it was cut to "sel…").
        let (_, open) = try runKeys(session, keys: "")
        let detail = String(open.split(separator: "\n", omittingEmptySubsequences: false)[22])
        XCTAssertTrue(detail.range(of: #"self [0-9.]+ (s|ms|µs) \([0-9.]+%\)"#, options: .regularExpression) != nil, detail)
        XCTAssertFalse(detail.hasSuffix("…"), detail)
        // Help descriptions wrap under themselves at 60 columns.
        let (_, help) = try runKeys(session, keys: "?", width: 60, height: 40)
        let rows = help.split(separator: "\n").map(String.init)
        let first = try XCTUnwrap(rows.firstIndex { $0.hasSuffix("expand the node (or go to its") }, help)
        XCTAssertEqual(rows[first + 1].trimmingCharacters(in: .whitespaces), "first child)", help)
        for line in help.split(separator: "\n") { XCTAssertLessThanOrEqual(DisplayWidth.width(String(line)), 60) }
        XCTAssertNil(Viewer.unusableTerminal("xterm-256color"))
        XCTAssertNotNil(Viewer.unusableTerminal("dumb"))
        XCTAssertNotNil(Viewer.unusableTerminal(nil))
    }

    /// Item 14: a key pressed while the help is open closes it and acts (as in `less`); `m`
    /// and `L` say when there is nothing to change, and change nothing.
    func testHelpPassesKeysOnAndTogglesSayWhenNothingChanges() throws {
        let session = try TUIFixtures.session("etl.prof")
        let (s, _) = try runKeys(session, keys: "?1")
        XCTAssertNil(s.overlay)
        XCTAssertEqual(s.view, .functions)
        let (q, _) = try runKeys(session, keys: "?q")
        XCTAssertFalse(q.quit, "q closes the help, as in less")
        let (m, mScreen) = try runKeys(session, keys: "m")
        XCTAssertEqual(session.base.metrics.count, 1)
        XCTAssertEqual(m.metric, 0)
        XCTAssertTrue(mScreen.contains("this profile has one metric"), mScreen)
        let (l, lScreen) = try runKeys(session, keys: "L")
        XCTAssertFalse(l.splitLines)
        XCTAssertTrue(lScreen.contains("no lines to split"), lScreen)
        // A format with lines still splits.
        let (py, _) = try runKeys(try TUIFixtures.session("etl.pyspy.txt"), keys: "L")
        XCTAssertTrue(py.splitLines)
    }

    /// Item 13: in the colour flame graph, two neighbouring spans of one colour (the same
    /// module) are parted by a separator.
    func testFlameSpansOfOneColourHaveABoundary() throws {
        let (_, grid) = try runKeysGrid(try TUIFixtures.session("etl.pyspy.txt"), keys: "5")
        var parted = 0
        for y in 2..<(grid.height - 2) {
            for x in 1..<grid.width where grid[x, y].text == "▏" {
                XCTAssertEqual(grid[x, y].role, grid[x - 1, y].role, "a separator sits between spans of one colour")
                parted += 1
            }
        }
        XCTAssertGreaterThan(parted, 0, grid.dump())
        assertSnapshot(grid.dump() + "--- roles ---\n" + grid.dumpRoles(), named: "colour-flame")
    }
}
