import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Damaged copies of the larger corpus files, given to the built `perftop report` binary: exit
/// status 0 or 2, at most one `perftop: ` line on stderr, and bounded peak memory (wait4's
/// ru_maxrss). The in-process variant over the whole corpus is
/// ProfileModelTests/CorpusConformanceTests.testDamagedCopiesGiveAProfileOrALocatedError.
final class BadInputCLITests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `$PERFTOP_CORPUS` or `../shared/corpus`, as in ProfileModelTests' Fixtures.
    static func requireCorpus() throws -> String {
        let env = ProcessInfo.processInfo.environment["PERFTOP_CORPUS"]
        let dir = env ?? repoRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus").path
        guard FileManager.default.fileExists(atPath: dir + "/EXPECTED.json") else {
            throw XCTSkip("SKIPPED: ../shared/corpus is absent (set PERFTOP_CORPUS to run the corpus tests)")
        }
        return dir
    }

    /// The largest file of most formats (two are gzip, so the inflater is exercised too).
    static let files = [
        "austin-python/test/data/test.austin",                                   // austin text, 2.6 MB
        "austin-python/test/data/column.mojo",                                   // MOJO, 1 MB
        "speedscope/sample/profiles/Chrome/65/sucrase.cpuprofile",               // cpuprofile, 1 MB
        "speedscope/sample/profiles/Chrome/65/simple-timeline.json",             // trace events, 0.8 MB
        "pprof/internal/proftest/testdata/large.cpu",                            // gzip pprof, 2.4 MB inflated
        "FlameGraph/test/perf-vertx-stacks-01.txt",                              // perf script, 1 MB
        "FlameGraph/example-perf-stacks.txt.gz",                                 // gzip perf script, 3.1 MB inflated
        "inferno/tests/data/collapse-perf/results/example-perf-stacks-collapsed.txt", // folded, 0.6 MB
        "generated/pyinstrument/pyinstrument.pyisession",                        // pyinstrument session, 0.5 MB
        "generated/cprofile/cprofile-py313.pstats",                              // pstats
    ]

    struct Run { var status: Int32; var signal: Int32; var out: String; var err: String; var maxRSS: Int?; var seconds: Double }

    /// GNU time, which reports the peak RSS of the command alone. wait4's own ru_maxrss on the
    /// process we spawn is useless here: Linux carries the pre-exec address space's high-water
    /// mark into `signal->maxrss` at execve, and posix_spawn (vfork) shares this test process's
    /// ~45 MB address space, so every run would report at least the test runner's peak.
    static let timeBinary: String? = FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? "/usr/bin/time" : nil

    /// Spawns `perftop ARGS` (under `/usr/bin/time -f %M` when present) with stdout/stderr to
    /// files and waits for it. A run longer than `timeout` seconds is killed, by pid, and
    /// reported as signal 9.
    func perftop(_ args: [String], tmp: URL, timeout: Double = 60) throws -> Run {
        let outPath = tmp.appendingPathComponent("stdout").path, errPath = tmp.appendingPathComponent("stderr").path
        let rssPath = tmp.appendingPathComponent("maxrss").path
        try? FileManager.default.removeItem(atPath: rssPath)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let binary = CLITests.binary.path
        var command = [binary] + args
        if let time = Self.timeBinary { command = [time, "-f", "%M", "-o", rssPath] + command }
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard rc == 0 else { throw XCTSkip("cannot spawn \(command[0]): \(String(cString: strerror(rc)))") }

        var status: Int32 = 0
        var usage = rusage()
        var timedOut = false
        let start = Date()
        while true {
            let w = wait4(pid, &status, WNOHANG, &usage)
            if w == pid { break }
            if w < 0 && errno != EINTR { XCTFail("wait4: \(String(cString: strerror(errno)))"); break }
            if Date().timeIntervalSince(start) > timeout {
                // perftop itself first (time's child, by pid), then what we spawned.
                let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
                for c in children.split(separator: " ").compactMap({ pid_t($0) }) { kill(c, SIGKILL) }
                kill(pid, SIGKILL)
                _ = wait4(pid, &status, 0, &usage)
                timedOut = true
                break
            }
            usleep(5_000)
        }
        let seconds = Date().timeIntervalSince(start)
        var termSig = status & 0x7F
        var exitStatus = termSig == 0 ? (status >> 8) & 0xFF : -1
        var maxRSS: Int?
        if Self.timeBinary != nil {
            // `-o` gets "Command exited with non-zero status N" / "Command terminated by signal N"
            // lines, then the %M value (KiB) on the last line.
            let report = (try? String(contentsOfFile: rssPath, encoding: .utf8)) ?? ""
            let lines = report.split(separator: "\n")
            maxRSS = lines.last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { $0 * 1024 }
            if let sig = lines.first(where: { $0.hasPrefix("Command terminated by signal ") })?.split(separator: " ").last.flatMap({ Int32($0) }) {
                termSig = sig
                exitStatus = -1
            }
        }
        if timedOut { termSig = SIGKILL; exitStatus = -1 }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
        return Run(status: exitStatus, signal: termSig, out: out, err: err, maxRSS: maxRSS, seconds: seconds)
    }

    /// The size of the data the reader parses: for gzip, the inflated size of the original
    /// (its ISIZE trailer); a cut or flipped copy inflates to no more than that.
    static func parsedSize(_ original: [UInt8]) -> Int {
        guard original.count > 18, original[0] == 0x1F, original[1] == 0x8B else { return original.count }
        let t = original.suffix(4).map(Int.init)
        return max(original.count, t[0] | t[1] << 8 | t[2] << 16 | t[3] << 24)
    }

    func testDamagedLargeFilesExitCleanlyInBoundedMemory() throws {
        let dir = try Self.requireCorpus()
        let tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("perftop-badinput-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }

        let baseline = 30 << 20
        var runs = 0, ok = 0, refused = 0, worst = (0.0, "")
        var problems: [String] = []
        let started = Date()
        for file in Self.files {
            guard let data = FileManager.default.contents(atPath: dir + "/" + file) else {
                problems.append("\(file): missing from the corpus"); continue
            }
            let bytes = Array(data)
            let limit = 4 * Self.parsedSize(bytes) + baseline
            var variants: [(String, [UInt8])] = [
                ("cut@\(bytes.count / 2)", Array(bytes[0..<(bytes.count / 2)])),
                ("cut@\(bytes.count - 1)", Array(bytes[0..<(bytes.count - 1)])),
            ]
            for k in [3, 7] {   // deterministic positions, clear of the first bytes the sniffer reads
                let pos = bytes.count * k / 10
                var b = bytes
                b[pos] ^= 0xFF
                variants.append(("flip@\(pos)", b))
            }
            var summary: [String] = []
            defer { print("  \(file): " + summary.joined(separator: ", ") + " (RSS limit \(limit >> 20) MB)") }
            for (variant, content) in variants {
                let id = "\(file)#\(variant)"
                let input = tmp.appendingPathComponent("input").path
                try Data(content).write(to: URL(fileURLWithPath: input))
                let r = try perftop(["report", input], tmp: tmp)
                runs += 1
                summary.append("\(variant) exit \(r.status) \(r.maxRSS.map { "\($0 >> 20) MB" } ?? "? MB")")
                if let rss = r.maxRSS, Double(rss) / Double(limit) > worst.0 {
                    worst = (Double(rss) / Double(limit), "\(id): \(rss >> 20) MB of \(limit >> 20) MB")
                }
                let errLines = r.err.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                switch r.status {
                case 0:
                    ok += 1
                    if !r.err.isEmpty && !(errLines.count == 1 && r.err.hasPrefix("perftop: ")) {
                        problems.append("\(id): exit 0 with stderr: \(r.err.prefix(300))")
                    }
                case 2:
                    refused += 1
                    if !(r.err.hasPrefix("perftop: \(input)") && r.err.hasSuffix("\n") && errLines.count == 1) {
                        problems.append("\(id): exit 2, stderr is not one 'perftop: FILE...' line: \(r.err.prefix(300))")
                    }
                default:
                    problems.append("\(id): " + (r.signal != 0 ? "killed by signal \(r.signal)" : "exit status \(r.status)")
                                    + String(format: " after %.1f s", r.seconds) + "; stderr: \(r.err.suffix(600))")
                }
                if Self.timeBinary != nil && r.maxRSS == nil {
                    problems.append("\(id): /usr/bin/time reported no peak RSS")
                }
                if let rss = r.maxRSS, rss > limit {
                    problems.append("\(id): peak RSS \(rss >> 20) MB > 4 x \(Self.parsedSize(bytes)) bytes + 30 MB = \(limit >> 20) MB")
                }
            }
        }
        if Self.timeBinary == nil {
            print("SKIPPED: peak-RSS bound not checked: /usr/bin/time (Debian package 'time') is not installed")
        }
        print("damaged CLI runs: \(runs) in " + String(format: "%.1f", Date().timeIntervalSince(started))
              + " s: \(ok) exit 0, \(refused) exit 2; highest RSS/limit " + String(format: "%.2f", worst.0) + " (\(worst.1))")
        if !problems.isEmpty { XCTFail("\(problems.count) problem(s):\n  " + problems.joined(separator: "\n  ")) }
    }
}
