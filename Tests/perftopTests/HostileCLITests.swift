import Foundation
import XCTest

/// Issue 18 through the binary: the memory and line limits end in one located line and exit
/// status 2, and the limits are options.
final class HostileCLITests: XCTestCase {
    func assertLocatedFailure(_ r: CLITests.Run, _ prefix: String, _ contains: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.status, 2, r.err, file: file, line: line)
        XCTAssertTrue(r.err.hasPrefix("perftop: " + prefix), r.err, file: file, line: line)
        XCTAssertTrue(r.err.contains(contains), r.err, file: file, line: line)
        XCTAssertEqual(r.err.filter { $0 == "\n" }.count, 1, r.err, file: file, line: line)
    }

    func testMaxMemoryRefusesAnInputThatNeedsMore() throws {
        // etl.speedscope.json is 13 KB: read whole into one buffer, more than a 4K budget.
        let r = try runPerftop(["report", "SampleProfiles/etl.speedscope.json", "--max-memory", "4K"])
        assertLocatedFailure(r, "SampleProfiles/etl.speedscope.json@0: needs ", "more than the limit (--max-memory")
        XCTAssertEqual(try runPerftop(["report", "SampleProfiles/etl.speedscope.json", "--max-memory", "1G"]).status, 0)
        let bad = try runPerftop(["report", "SampleProfiles/etl.speedscope.json", "--max-memory", "lots"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("--max-memory"), bad.err)
    }

    func testOverlongLineOnStandardInput() throws {
        // Small enough for the pipe's buffer: perftop may exit before reading it all.
        let input = Data("main;a 1\n".utf8) + Data(repeating: 0x61, count: 3000) + Data(" 2\n".utf8)
        let r = try runPerftop(["report", "-", "--format", "collapsed", "--max-line", "1K"], stdin: input)
        assertLocatedFailure(r, "-:2: line longer than", "--max-line")
        XCTAssertEqual(try runPerftop(["report", "-", "--format", "collapsed", "--max-line", "4K"], stdin: input).status, 0)
    }

    func testEndlessDeviceIsRefused() throws {
        for args in [["report", "/dev/zero", "--format", "speedscope"], ["report", "/dev/zero"], ["report", "/dev/urandom", "--format", "collapsed"]] {
            assertLocatedFailure(try runPerftop(args), args[1] + "@0: ", "never ends")
        }
    }
}
