import Foundation
import XCTest
@testable import ProfileModel

/// Issue 17 item 5: a function is labelled by its definition line where the file records one,
/// otherwise by the line that holds most of its samples, never by a line sampled once beside
/// the hot one. The expectation is computed here from the raw stack text (leaf frame, its line,
/// the line's weight), without the readers.
final class FunctionLabelTests: XCTestCase {
    /// (name, file) → line → self weight, from the leaf frame of every stack line.
    private typealias LineWeights = [String: [Int: Double]]

    /// py-spy's raw output: `name (file:line);... count`.
    private func pyspyLeaves(_ text: String) -> LineWeights {
        var d = LineWeights()
        for raw in text.split(separator: "\n") {
            guard let sp = raw.lastIndex(of: " "), let w = Double(raw[raw.index(after: sp)...]) else { continue }
            let stack = raw[..<sp]
            let leaf = stack.split(separator: ";").last.map(String.init) ?? ""
            guard leaf.hasSuffix(")"), let open = leaf.range(of: " (", options: .backwards) else { continue }
            let inner = leaf[open.upperBound..<leaf.index(before: leaf.endIndex)]
            guard let colon = inner.lastIndex(of: ":"), let line = Int(inner[inner.index(after: colon)...]) else { continue }
            let key = "\(leaf[..<open.lowerBound])\u{0}\(inner[..<colon])"
            d[key, default: [:]][line, default: 0] += w
        }
        return d
    }

    /// austin's text: `P..;T..;file:function:line;... time[,idle,memory]` (weight: the first value).
    private func austinLeaves(_ text: String) -> LineWeights {
        var d = LineWeights()
        for raw in text.split(separator: "\n") where !raw.hasPrefix("#") {
            guard let sp = raw.lastIndex(of: " ") else { continue }
            let values = raw[raw.index(after: sp)...].split(separator: ",")
            guard let w = values.first.flatMap({ Double($0) }), w > 0 else { continue }
            let leaf = String(raw[..<sp].split(separator: ";").last ?? "")
            let parts = leaf.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 3, let line = Int(parts[parts.count - 1]), line > 0 else { continue }
            let file = parts[0..<(parts.count - 2)].joined(separator: ":")
            d["\(parts[parts.count - 2])\u{0}\(file)", default: [:]][line, default: 0] += w
        }
        return d
    }

    /// The hottest line of each function (ties: the smaller line).
    private func hottest(_ d: LineWeights) -> [String: Int] {
        d.mapValues(hottestLine)
    }

    /// Checks every function the stacks name at a leaf, merged while reading and line by line.
    /// Returns how many functions' hottest line is not their smallest sampled line (the cases a
    /// smallest-line label gets wrong).
    private func check(_ file: String, _ leaves: LineWeights, line: UInt = #line) throws -> Int {
        let want = hottest(leaves)
        for merge in [true, false] {
            let p = try FormatRegistry.load(path: Fixtures.sample(file), mergeLines: merge)
            var seen = 0
            for fn in 0..<Int32(p.frames.functionCount) {
                let key = "\(p.frames.name(ofFunction: fn))\u{0}\(p.frames.file(ofFunction: fn) ?? "")"
                guard let w = want[key] else { continue }
                seen += 1
                XCTAssertEqual(p.frames.line(ofFunction: fn), w, "\(file) merge=\(merge): \(key.replacingOccurrences(of: "\u{0}", with: " "))",
                               line: line)
            }
            XCTAssertEqual(seen, want.count, "\(file) merge=\(merge): functions found", line: line)
            if merge {
                // The merged tree's frames show the same line as their function.
                for n in 1..<Int32(p.tree.count) {
                    let f = p.tree.frame[Int(n)], fn = p.frames.frameFunction[Int(f)]
                    if fn >= 0 { XCTAssertEqual(p.frames.line(ofFrame: f), p.frames.line(ofFunction: fn), file, line: line) }
                }
            }
        }
        return leaves.values.filter { lines in hottestLine(lines) != lines.keys.min() }.count
    }

    private func hottestLine(_ lines: [Int: Double]) -> Int {
        lines.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!.key
    }

    func testSampledFunctionsAreLabelledByTheirHottestLine() throws {
        var moved = 0
        for f in ["etl.pyspy.txt", "io_bound.pyspy.txt", "lock_bound.pyspy.txt", "pool.pyspy.txt",
                  "threads.pyspy.txt", "recursive.pyspy.txt", "etl-fixed.pyspy.txt"] {
            let text = try String(contentsOfFile: Fixtures.sample(f), encoding: .utf8)
            moved += try check(f, pyspyLeaves(text))
        }
        for f in ["etl.austin", "io_bound.austin"] {
            let text = try String(contentsOfFile: Fixtures.sample(f), encoding: .utf8)
            moved += try check(f, austinLeaves(text))
        }
        // Functions whose smallest sampled line is not the hot one: a smallest-line label
        // names the wrong line for each of them.
        XCTAssertGreaterThan(moved, 5)
    }

    /// pstats records where each function starts: that line labels it, whatever the tree does.
    func testDefinitionLinesStay() throws {
        let p = try FormatRegistry.load(path: Fixtures.sample("etl.prof"))
        let text = try String(contentsOfFile: Fixtures.sample("workload/etl.py"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var checked = 0
        for fn in 0..<Int32(p.frames.functionCount) {
            guard let file = p.frames.file(ofFunction: fn), file.hasSuffix("etl.py"),
                  let l = p.frames.line(ofFunction: fn), l <= lines.count else { continue }
            let name = p.frames.name(ofFunction: fn)
            guard !name.hasPrefix("<") else { continue }
            // cProfile's co_firstlineno: the `def` line (or a decorator above it).
            let src = lines[l - 1].trimmingCharacters(in: .whitespaces)
            XCTAssertTrue(src.hasPrefix("def ") || src.hasPrefix("@"), "\(name) at line \(l): \(src)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 3)
    }
}
