import Foundation
import XCTest
@testable import ProfileModel

/// The benchmark shape, small: `Tests/Deep/deep.folded` is `Scripts/gen_deep.py folded`
/// output (four threads, 50-80 frames, direct and indirect recursion, consecutive samples sharing
/// long prefixes), and each `deep.<format>.json` beside it is that file converted by the script's
/// own writers, one time unit per count. Every reader's tree must give back the folded input:
/// the same stacks with the same weights (thread pseudo-frames merged, as in GoldenTests).
final class DeepShapeTests: XCTestCase {
    static let dir = Fixtures.repoRoot.appendingPathComponent("Tests/Deep").path

    /// The generator's folded input, thread frames dropped: no perftop code involved.
    static func expected() throws -> [String: Double] {
        let text = try String(contentsOfFile: dir + "/deep.folded", encoding: .utf8)
        var d: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let sp = line.lastIndex(of: " ")!
            var frames = line[..<sp].split(separator: ";", omittingEmptySubsequences: false)
            if frames.first?.hasPrefix("thread (") == true { frames.removeFirst() }
            d[frames.joined(separator: ";"), default: 0] += Double(line[line.index(after: sp)...])!
        }
        return d
    }

    func testEveryConvertedDeepFileGivesBackTheFoldedStacks() throws {
        let want = try Self.expected()
        XCTAssertGreaterThan(want.count, 50)
        XCTAssertGreaterThan(want.keys.map { $0.split(separator: ";").count }.max() ?? 0, 60, "the input is deep")
        let cases: [(file: String, format: String)] = [
            ("deep.folded", "collapsed"), ("deep.sampled.json", "speedscope"), ("deep.evented.json", "speedscope"),
            ("deep.cpuprofile.json", "cpuprofile"), ("deep.trace.json", "trace-event"), ("deep.gecko.json", "gecko"),
            ("deep.pyinstrument.json", "pyinstrument"),
        ]
        for c in cases {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/" + c.file)))
            for chunk in [4096, bytes.count] {
                let p = try FormatRegistry.load(source: MemorySource(bytes, chunk: chunk), name: c.file)
                XCTAssertEqual(p.format, c.format, c.file)
                let got = GoldenTests.parseFolded(GoldenTests.canonical(p))
                if let diff = GoldenTests.difference(got, want) { XCTFail("\(c.file) at chunk \(chunk):\n\(diff)") }
            }
        }
    }
}
