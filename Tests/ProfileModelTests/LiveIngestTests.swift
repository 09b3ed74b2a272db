import Foundation
import XCTest
@testable import ProfileModel

/// Writes a recorded profile into a pipe the way a sampler does: in bursts of uneven sizes,
/// lines split mid-way, with pauses between bursts.
enum Replay {
    static func start(_ bytes: [UInt8], to fd: Int32, seed: UInt64 = 7, pauseMicros: UInt32 = 20_000, bursts: Int = 12,
                      close closeWhenDone: Bool = true) -> Thread {
        let t = Thread {
            var rng = seed
            func next() -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(rng >> 33) }
            var pos = 0
            let burst = max(1, bytes.count / bursts)
            while pos < bytes.count {
                let end = min(bytes.count, pos + burst)
                while pos < end {
                    let n = min(end - pos, 1 + next() % 997)
                    let w = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + pos, n) }
                    if w <= 0 { break }
                    pos += w
                }
                usleep(pauseMicros)
            }
            if closeWhenDone { close(fd) }
        }
        t.start()
        return t
    }
}

final class LiveIngestTests: XCTestCase {
    func bytes(_ sample: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.sample(sample))))
    }

    func functionTotals(_ p: Profile) -> [String: Double] {
        var d: [String: Double] = [:]
        for f in 0..<p.functions.count {
            d[p.frames.describe(function: Int32(f)), default: 0] += p.functions.totalWeight[p.defaultMetric][f]
        }
        return d.filter { $0.value != 0 }
    }

    /// The final live profile equals the same file read whole, for every live format.
    func testPipeReplayEqualsReadingTheFile() throws {
        for sample in ["etl.austin", "etl.pyspy.txt", "etl.mojo"] {
            var fds: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&fds), 0)
            let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: sample)
            _ = Replay.start(try bytes(sample), to: fds[1])
            ingest.run()
            close(fds[0])
            let (live, status) = ingest.snapshot()
            XCTAssertEqual(status.state, .ended, sample)
            XCTAssertGreaterThan(status.generation, 1, "\(sample): snapshots while the stream was running")
            let whole = try FormatRegistry.load(path: Fixtures.sample(sample), mergeLines: true)
            let p = try XCTUnwrap(live, sample)
            XCTAssertEqual(p.total(metric: p.defaultMetric), whole.total(metric: whole.defaultMetric), accuracy: 1e-6, sample)
            XCTAssertEqual(functionTotals(p), functionTotals(whole), sample)
        }
    }

    func testGarbageLinesAreCountedAndNeverStopTheStream() throws {
        let text = "a;b 3\nthis is not a sample\na;c 2\n\u{1}\u{2}junk\na;b 1\n"
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: "garbage")
        _ = Replay.start(Array(text.utf8), to: fds[1], pauseMicros: 1000, bursts: 3)
        ingest.run()
        let (p, status) = ingest.snapshot()
        XCTAssertEqual(status.state, .ended)
        XCTAssertEqual(status.garbage, 2)
        XCTAssertEqual(p?.total(metric: 0), 6)
    }

    func testAStreamThatBreaksTheFormatKeepsTheLastGoodProfile() throws {
        var data = try bytes("etl.mojo")
        data = Array(data.prefix(data.count / 2)) + [UInt8](repeating: 0xEE, count: 64)
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: "broken.mojo")
        _ = Replay.start(data, to: fds[1], pauseMicros: 1000)
        ingest.run()
        let (p, status) = ingest.snapshot()
        guard case .error(let why) = status.state else { return XCTFail("\(status.state)") }
        XCTAssertTrue(why.contains("@") || why.contains("offset"), why)
        XCTAssertGreaterThan(p?.total(metric: p!.defaultMetric) ?? 0, 0, "the last good profile is kept")
    }

    func testSomethingElseIsRefused() throws {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: "json")
        _ = Replay.start(Array("{\"traceEvents\": [1, 2, 3]}\n".utf8), to: fds[1], pauseMicros: 1000, bursts: 1)
        ingest.run()
        guard case .error(let why) = ingest.snapshot().1.state else { return XCTFail("should be refused") }
        XCTAssertTrue(why.contains("not a folded, austin or MOJO stream"), why)
    }

    /// Follow mode: growth is picked up, and truncation starts again (and says so).
    func testFollowSeesGrowthAndTruncation() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-follow-\(getpid()).txt").path
        let data = try bytes("etl.pyspy.txt")
        let half = data.count / 2
        let cut = data[..<half].lastIndex(of: 0x0A)! + 1
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(data[..<cut])))
        defer { unlink(path) }
        let ingest = LiveIngest(source: try FollowLiveSource(path: path), name: path)
        ingest.start()
        defer { ingest.stop() }
        func waitFor(_ what: String, _ ok: (Profile?, LiveStatus) -> Bool) {
            let end = Date().addingTimeInterval(10)
            while Date() < end { let (p, s) = ingest.snapshot(); if ok(p, s) { return }; usleep(20_000) }
            XCTFail("timed out waiting for \(what): \(ingest.snapshot().1)")
        }
        waitFor("the first half") { p, _ in (p?.total(metric: 0) ?? 0) > 0 }
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile()
        h.write(Data(data[cut...]))
        try h.close()
        let whole = try FormatRegistry.load(path: Fixtures.sample("etl.pyspy.txt"))
        waitFor("the whole file") { p, _ in p?.total(metric: 0) == whole.total(metric: 0) }
        XCTAssertEqual(ingest.snapshot().1.state, .live, "a followed file never ends by itself")
        truncate(path, 0)
        let h2 = FileHandle(forWritingAtPath: path)!
        h2.write(Data("x;y 5\n".utf8))
        try h2.close()
        waitFor("the restart") { p, s in (s.message ?? "").contains("truncated") && p?.total(metric: 0) == 5 }
        // Rotation: a new file takes the name.
        let next = path + ".new"
        XCTAssertTrue(FileManager.default.createFile(atPath: next, contents: Data("z;w 9\n".utf8)))
        XCTAssertEqual(rename(next, path), 0)
        waitFor("the replacement") { p, s in (s.message ?? "").contains("replaced") && p?.total(metric: 0) == 9 }
    }

    /// A time window shows only what arrived in the last seconds: what is hot now. The clock
    /// is the test's, so three seconds pass without waiting for them.
    func testWindowShowsOnlyRecentSamples() throws {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let clock = ManualClock(1_000_000)
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: "window", clock: { clock.now() })
        ingest.start()
        defer { ingest.stop(); close(fds[1]) }
        func send(_ s: String) { _ = Array(s.utf8).withUnsafeBytes { write(fds[1], $0.baseAddress!, $0.count) } }
        func waitFor(_ what: String, _ ok: (Profile?, LiveStatus) -> Bool) {
            let end = Date().addingTimeInterval(10)
            while Date() < end { let (p, s) = ingest.snapshot(); if ok(p, s) { return }; usleep(20_000) }
            XCTFail("timed out waiting for \(what): \(ingest.snapshot().1)")
        }
        send("old;work 5\n")
        waitFor("the old samples") { p, _ in p?.total(metric: 0) == 5 }
        clock.advance(3)
        send("new;work 7\n")
        waitFor("all samples") { p, _ in p?.total(metric: 0) == 12 }
        ingest.setWindow(2)
        waitFor("the last 2 s only") { p, s in s.window == 2 && p?.total(metric: 0) == 7 }
        let p = ingest.snapshot().0!
        XCTAssertEqual(p.tree.children(0).map { p.frames.frame(p.tree.frame[Int($0)]).name }, ["new"])
        ingest.setWindow(nil)
        waitFor("all samples again") { p, s in s.window == nil && p?.total(metric: 0) == 12 }
    }

    /// Runs `text` through a live ingest from a pipe to the end of the stream.
    func ingest(_ text: String) -> (Profile?, LiveStatus) {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: "stream")
        _ = Replay.start(Array(text.utf8), to: fds[1], pauseMicros: 1000, bursts: 3)
        ingest.run()
        close(fds[0])
        return ingest.snapshot()
    }

    /// A count no sampler produces is a bad line: it neither crashes the figures (samples, the
    /// rate) nor takes over the view.
    func testHugeCountsAreBadLines() throws {
        let (p, status) = ingest("a;b 5\nhuge;x 9000000000000000000\na;c 3\nhuge;y 1e300\nhuge;z 99999999999999999999999999999\na;b 1\n")
        XCTAssertEqual(status.state, .ended)
        XCTAssertEqual(status.garbage, 3, "the two huge counts and the one that is not a number")
        XCTAssertEqual(status.samples, 9)
        XCTAssertEqual(p?.total(metric: 0), 9)
        XCTAssertTrue(status.samplesPerSecond.isFinite && status.samplesPerSecond <= 1e15)
        XCTAssertFalse((p?.frames.frameCount ?? 0) > 0 && (0..<p!.frames.frameCount).contains {
            p!.frames.name(ofFrame: Int32($0)) == "huge" }, "no frame of a bad line is kept")
    }

    /// The first good line decides the stream's shape: one count, or `before after`. A line of
    /// the other shape is a bad line, not a switch to before/after metrics.
    func testTheStreamKeepsTheShapeOfItsFirstLines() throws {
        let (single, s1) = ingest("a;b 3\na;b 1 2 3\na;c 2\n")
        XCTAssertEqual(single?.metrics, [ValueType("samples", "count")])
        XCTAssertEqual(s1.garbage, 1)
        XCTAssertEqual(single?.total(metric: 0), 5)
        let (diff, s2) = ingest("a;b 1 2\na;c 4\na;b 2 3\n")
        XCTAssertEqual(diff?.metrics.map(\.name).sorted(), ["after", "before"])
        XCTAssertEqual(s2.garbage, 1)
        let after = diff!.metrics.firstIndex { $0.name == "after" }!, before = diff!.metrics.firstIndex { $0.name == "before" }!
        XCTAssertEqual(diff?.total(metric: after), 5)
        XCTAssertEqual(diff?.total(metric: before), 3)
    }

    /// Follow mode: a directory that takes the file's name is waited out, like a missing file,
    /// and the file that comes back is followed from its start.
    func testFollowWaitsOutADirectoryInTheFilesPlace() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-follow-dir-\(getpid()).txt").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("x;y 5\n".utf8)))
        defer { unlink(path); rmdir(path) }
        let ingest = LiveIngest(source: try FollowLiveSource(path: path), name: path)
        ingest.start()
        defer { ingest.stop() }
        func waitFor(_ what: String, _ ok: (Profile?, LiveStatus) -> Bool) {
            let end = Date().addingTimeInterval(10)
            while Date() < end { let (p, s) = ingest.snapshot(); if ok(p, s) { return }; usleep(20_000) }
            XCTFail("timed out waiting for \(what): \(ingest.snapshot().1)")
        }
        waitFor("the file") { p, _ in p?.total(metric: 0) == 5 }
        XCTAssertEqual(unlink(path), 0)
        XCTAssertEqual(mkdir(path, 0o755), 0)
        waitFor("the directory to be noticed") { _, s in (s.message ?? "").contains("directory") }
        usleep(300_000)
        XCTAssertNotEqual(ingest.snapshot().1.state.label, "error", "\(ingest.snapshot().1)")
        XCTAssertEqual(rmdir(path), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("z;w 9\n".utf8)))
        waitFor("the file to come back") { p, s in (s.message ?? "").contains("back") && p?.total(metric: 0) == 9 }
        XCTAssertEqual(ingest.snapshot().1.state, .live)
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var t: Double
    init(_ t: Double) { self.t = t }
    func now() -> Double { lock.lock(); defer { lock.unlock() }; return t }
    func advance(_ s: Double) { lock.lock(); t += s; lock.unlock() }
    func set(_ s: Double) { lock.lock(); t = s; lock.unlock() }
}
