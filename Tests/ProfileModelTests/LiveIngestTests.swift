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
        FileManager.default.createFile(atPath: path, contents: Data(data[..<cut]))
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
        FileManager.default.createFile(atPath: next, contents: Data("z;w 9\n".utf8))
        XCTAssertEqual(rename(next, path), 0)
        waitFor("the replacement") { p, s in (s.message ?? "").contains("replaced") && p?.total(metric: 0) == 9 }
    }

    /// A time window shows only what arrived in the last seconds: what is hot now.
    func testWindowShowsOnlyRecentSamples() throws {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: "window")
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
        sleep(3)
        send("new;work 7\n")
        waitFor("all samples") { p, _ in p?.total(metric: 0) == 12 }
        ingest.setWindow(2)
        waitFor("the last 2 s only") { p, s in s.window == 2 && p?.total(metric: 0) == 7 }
        let p = ingest.snapshot().0!
        XCTAssertEqual(p.tree.children(0).map { p.frames.frame(p.tree.frame[Int($0)]).name }, ["new"])
        ingest.setWindow(nil)
        waitFor("all samples again") { p, s in s.window == nil && p?.total(metric: 0) == 12 }
    }
}
