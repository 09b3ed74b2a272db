import Foundation
import XCTest
@testable import ProfileModel

/// The MOJO reader builds the tree the caller asked for (lines and/or threads merged) while
/// reading. It must give what merging the plain read gives, and the function stacks of an
/// independent reference.
final class MojoMergedReadTests: XCTestCase {
    static func files() -> [String] {
        var paths = [Fixtures.sample("etl.mojo")]
        if let dir = Fixtures.corpusDir {
            paths += ["generated/austin/austin.wall.mojo", "austin-python/test/data/austinp.mojo",
                      "austin-python/test/data/mp.mojo", "austin-python/test/data/repeat.mojo",
                      "austin-python/test/data/column.mojo", "austin-python/test/data/test.mojo"]
                .map { dir + "/" + $0 }.filter { FileManager.default.fileExists(atPath: $0) }
        } else {
            print("SKIPPED (corpus part): ../shared/corpus is absent; only SampleProfiles/etl.mojo is read")
        }
        return paths
    }

    func testMergedReadGivesWhatMergingThePlainReadGives() throws {
        for path in Self.files() {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            func load(lines: Bool, threads: Bool) throws -> Profile {
                try FormatRegistry.load(source: MemorySource(bytes, chunk: 4096), name: "test.mojo",
                                        mergeLines: lines, mergeThreads: threads)
            }
            let plain = try load(lines: false, threads: false)
            XCTAssertEqual(plain.format, "mojo", path)
            XCTAssertTrue(plain.hasThreads, "\(path): the plain read keeps process and thread frames")
            for (lines, threads) in [(true, true), (true, false), (false, true)] {
                let direct = try load(lines: lines, threads: threads)
                SpeedscopeMergedReadTests.assertSame(
                    SpeedscopeMergedReadTests.summary(direct.merging(threads: threads, lines: lines)),
                    SpeedscopeMergedReadTests.summary(plain.merging(threads: threads, lines: lines)),
                    "\(path) lines \(lines) threads \(threads)")
                XCTAssertEqual(direct.sampleCount, plain.sampleCount, path)
                XCTAssertEqual(direct.warnings, plain.warnings, path)
                if lines {
                    let kept = (0..<direct.frames.frameCount).filter { f in
                        direct.frames.frameFunction[f] >= 0 && direct.frames.frameLine[f] > 0 && !direct.frames.isMerged(Int32(f))
                    }
                    XCTAssertEqual(kept.count, 0, "\(path): line-level frames in a read that merged lines")
                }
                if threads {
                    XCTAssertFalse(direct.hasThreads, "\(path): grouping frames in a read that merged threads")
                    XCTAssertGreaterThan(direct.mergedThreads, 0, path)
                }
            }
        }
    }

    /// Against Scripts/golden_folded.py's reading of the same file (threads merged, one frame
    /// per line): with each frame's line dropped, the function stacks of the merged read.
    func testMergedReadGivesTheGoldenFunctionStacks() throws {
        let dir = Fixtures.repoRoot.appendingPathComponent("Tests/Golden/mojo").path
        let want = Fixtures.withoutLines(GoldenTests.parseFolded(try String(contentsOfFile: dir + "/etl.folded", encoding: .utf8)))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/etl.mojo")))
        let p = try FormatRegistry.load(source: MemorySource(bytes), name: "etl.mojo", mergeLines: true, mergeThreads: true)
        XCTAssertFalse(p.hasThreads)
        let got = p.stacks(metric: p.defaultMetric, name: p.functionName(ofFrame:))
        XCTAssertGreaterThan(want.count, 10)
        if let diff = GoldenTests.difference(got, want) { XCTFail(diff) }
    }
}
