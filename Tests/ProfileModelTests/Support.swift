import Foundation
import XCTest
@testable import ProfileModel

/// Where the repository and the shared corpus live. The corpus (`../shared/corpus`, or
/// `$PERFTOP_CORPUS`) belongs to the CEO side and is absent on a fresh clone: tests that need
/// it skip with a visible message.
enum Fixtures {
    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sample(_ name: String) -> String {
        repoRoot.appendingPathComponent("SampleProfiles").appendingPathComponent(name).path
    }

    static func reference(_ name: String) -> String {
        repoRoot.appendingPathComponent("Tests/Reference").appendingPathComponent(name).path
    }

    static var corpusDir: String? {
        let env = ProcessInfo.processInfo.environment["PERFTOP_CORPUS"]
        let dir = env ?? repoRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus").path
        return FileManager.default.fileExists(atPath: dir + "/EXPECTED.json") ? dir : nil
    }

    /// The corpus directory, or an XCTSkip that says why the test did not run.
    static func requireCorpus() throws -> String {
        guard let d = corpusDir else {
            throw XCTSkip("SKIPPED: ../shared/corpus is absent (set PERFTOP_CORPUS to run the corpus tests)")
        }
        return d
    }

    struct Expected {
        var path: String
        var bytes: Int
        var format: String
        var facts: [String: Any]
    }

    /// `EXPECTED.json`: facts independent reference parsers computed for every corpus file.
    static func expected() throws -> [Expected] {
        let dir = try requireCorpus()
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/EXPECTED.json"))
        let list = try JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return list.map {
            Expected(path: $0["path"] as! String, bytes: $0["bytes"] as? Int ?? 0,
                     format: $0["format"] as! String, facts: $0["facts"] as? [String: Any] ?? [:])
        }
    }

    /// Folded stacks with each "name (file:line)" frame as "name (file)": what a reference that
    /// keeps lines says of the stacks of functions. Stacks that become equal add up.
    static func withoutLines(_ stacks: [String: Double]) -> [String: Double] {
        var d: [String: Double] = [:]
        for (stack, w) in stacks {
            let names = stack.split(separator: ";", omittingEmptySubsequences: false).map { f -> String in
                guard f.hasSuffix(")"), let open = f.range(of: " (", options: .backwards),
                      let colon = f.lastIndex(of: ":"), colon > open.upperBound else { return String(f) }
                return f[..<open.lowerBound] + " (" + f[open.upperBound..<colon] + ")"
            }
            d[names.joined(separator: ";"), default: 0] += w
        }
        return d
    }

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

extension Profile {
    /// Sum of self weight per frame id (line-level frames), the "leaf frame" view of a profile.
    func selfByFrame(metric: Int) -> [Int32: Double] {
        var d: [Int32: Double] = [:]
        for n in 0..<tree.count where tree.selfWeight[metric][n] != 0 {
            d[tree.frame[n], default: 0] += tree.selfWeight[metric][n]
        }
        return d
    }

    /// Self weight per stack, each stack's frames named by `name(frame)` root first and joined
    /// with ';': a tree compared as folded text, by whatever of a frame the caller keeps.
    func stacks(metric m: Int, name: (Int32) -> String) -> [String: Double] {
        var d: [String: Double] = [:]
        for n in 1..<max(tree.count, 1) where tree.selfWeight[m][n] != 0 {
            var names: [String] = []
            var x = Int32(n)
            while x > 0 {
                names.append(name(tree.frame[Int(x)]))
                x = tree.parent[Int(x)]
            }
            d[names.reversed().joined(separator: ";"), default: 0] += tree.selfWeight[m][n]
        }
        return d
    }

    /// "name (file)" for a frame of a function with a file, else the frame's name: how a stack
    /// of functions (lines merged) reads, to compare with `Fixtures.withoutLines`.
    func functionName(ofFrame f: Int32) -> String {
        let fn = frames.frameFunction[Int(f)]
        guard fn >= 0, let file = frames.file(ofFunction: fn) else { return frames.name(ofFrame: f) }
        return frames.name(ofFunction: fn) + " (" + file + ")"
    }

    var maxDepth: Int { tree.maxDepth() }

    /// Names of functions, for lookups in tests.
    func functionIndex(name: String, fileSuffix: String? = nil) -> Int? {
        (0..<functions.count).first { f in
            frames.name(ofFunction: Int32(f)) == name
                && (fileSuffix == nil || (frames.file(ofFunction: Int32(f)) ?? "").hasSuffix(fileSuffix!))
        }
    }
}

/// Loads a file through the registry, as the CLI does.
func load(_ path: String, format: String? = nil) throws -> Profile {
    try FormatRegistry.load(path: path, format: format)
}

/// A seeded generator (SplitMix64), so fuzz-style and damaged inputs are the same on every run.
struct SeededRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
