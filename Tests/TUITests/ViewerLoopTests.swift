import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// The one event loop (`Viewer.loop`) on an in-memory terminal: what `Viewer.run` does on
/// curses and `--batch` does headless.
final class ViewerLoopTests: XCTestCase {
    func testDrawsOnlyWhenSomethingChanged() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let term = MemoryTerminal(size: Size(width: 80, height: 24),
                                  events: [.tick, .tick, .key(.char("1")), .tick, .key(.char("1")), .key(.char("j")), .tick])
        let onFunctions = try runKeys(session, keys: "1").0.fnSelected
        let s = try Viewer.loop(session, terminal: term, options: ViewerOptions()) { _ in nil }
        // The opening frame, then "1" (a new view) and "j" (a new row); ticks of a file and
        // a second "1" (already there) change nothing and draw nothing.
        XCTAssertEqual(term.frames.count, 3)
        XCTAssertEqual(term.frames.map(\.forced), [true, false, false])
        XCTAssertEqual(s.view, .functions)
        XCTAssertEqual(s.fnSelected, onFunctions + 1)
        // The last frame is the screen of the final state.
        XCTAssertEqual(term.frames.last?.grid.dump(),
                       Screen.render(s, session: session, size: Size(width: 80, height: 24), options: RenderOptions()).dump())
    }

    func testResizeRedrawsWholeAtTheNewSize() throws {
        let session = try TUIFixtures.session("etl.prof")
        let term = MemoryTerminal(size: Size(width: 80, height: 24), events: [.resize(Size(width: 120, height: 30)), .key(.char("1"))])
        let s = try Viewer.loop(session, terminal: term, options: ViewerOptions()) { _ in nil }
        XCTAssertEqual(term.frames.map { [$0.grid.width, $0.grid.height] }, [[80, 24], [120, 30], [120, 30]])
        XCTAssertEqual(term.frames.map(\.forced), [true, true, false])
        // Paging uses the new height: 26 body rows.
        XCTAssertEqual(Layout(size: Size(width: 120, height: 30)).bodyHeight, 26)
        XCTAssertEqual(s.view, .functions)
    }

    /// `e` hands the terminal to the editor at the selected function's hottest line, then
    /// redraws whole with what the editor said. The hottest line of `dedupe` is computed here
    /// from the folded file itself.
    func testEditorHandOffOpensTheHottestLine() throws {
        let path = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/etl.pyspy.txt")
        var perLine: [Int: Int] = [:]
        for line in try String(contentsOf: path, encoding: .utf8).split(separator: "\n") {
            guard let space = line.lastIndex(of: " "), let n = Int(line[line.index(after: space)...]) else { continue }
            let leaf = line[..<space].split(separator: ";").last.map(String.init) ?? ""
            if leaf.hasPrefix("dedupe (etl.py:"), let l = Int(leaf.dropFirst("dedupe (etl.py:".count).dropLast()) { perLine[l, default: 0] += n }
        }
        let hottest = try XCTUnwrap(perLine.max { $0.value < $1.value }?.key)
        let session = try TUIFixtures.session("etl.pyspy.txt")
        session.sourceRoots = [TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/workload").path]
        let term = MemoryTerminal(size: Size(width: 80, height: 24), events: [.key(.char("e")), .key(.char("q"))])
        var opened: [EditTarget] = []
        let s = try Viewer.loop(session, terminal: term, options: ViewerOptions()) { t in opened.append(t); return "editor exited 0" }
        XCTAssertEqual(opened.count, 1)
        XCTAssertEqual(opened.first?.line, hottest)
        XCTAssertTrue(opened.first?.path.hasSuffix("SampleProfiles/workload/etl.py") ?? false, "\(opened)")
        XCTAssertEqual(term.suspensions, 1)
        XCTAssertTrue(s.quit)
        XCTAssertEqual(term.frames.count, 2)
        XCTAssertTrue(term.frames[1].forced, "the screen is redrawn whole after the editor")
        XCTAssertTrue(term.frames[1].grid.dump().contains("editor exited 0"))
    }

    /// `reduce` hands out the editor request as an effect, once (after the loop has looked the
    /// file up), and Ctrl-L as a full redraw.
    func testReduceReturnsEffects() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        session.sourceRoots = [TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/workload").path]
        let size = Size(width: 80, height: 24)
        var s = Viewer.initialState(session, size: size, options: ViewerOptions())
        // The source path is not looked up yet: the reducer asks the loop to (a `.read`).
        XCTAssertEqual(s.reduce(.char("e"), deriver: session, size: size), [.read(then: .char("e"))])
        XCTAssertNil(s.message)
        session.read(for: s)
        let effects = s.reduce(.char("e"), deriver: session, size: size)
        guard case .openEditor(let t)? = effects.first, effects.count == 1 else { return XCTFail("\(effects)") }
        XCTAssertTrue(t.exists && t.path.hasSuffix("workload/etl.py"), "\(t)")
        XCTAssertEqual(s.reduce(.char("j"), deriver: session, size: size), [], "the request is handed out once")
        XCTAssertEqual(s.reduce(.ctrl("l"), deriver: session, size: size), [.redrawAll])
    }

    /// A live stream's snapshots are adopted as they come, and not while paused.
    func testAdoptsSnapshotsUnlessPaused() throws {
        func profile(_ text: String) throws -> Profile {
            try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "live.txt")
        }
        let first = try profile("main;work (app.py:1) 3\n")
        let second = try profile("main;work (app.py:1) 3\nmain;idle (app.py:2) 5\n")
        let empty = { ProfileBuilder(format: "live", metrics: [ValueType("samples", "count")]).freeze(source: "live.txt") }
        let session = Session(profile: empty(), fileName: "live.txt")
        let stream = Stream([first, second])
        let term = MemoryTerminal(size: Size(width: 80, height: 24), events: [.tick, .tick])
        _ = try Viewer.loop(session, terminal: term, options: ViewerOptions(), live: stream) { _ in nil }
        XCTAssertTrue(session.base === second)
        XCTAssertTrue(term.frames.last?.grid.dump().contains("total 8") ?? false, term.frames.last?.grid.dump() ?? "")

        let paused = Session(profile: empty(), fileName: "live.txt")
        let pausedTerm = MemoryTerminal(size: Size(width: 80, height: 24), events: [.key(.char("p")), .tick])
        let s = try Viewer.loop(paused, terminal: pausedTerm, options: ViewerOptions(), live: Stream([first, second])) { _ in nil }
        XCTAssertTrue(s.paused)
        XCTAssertTrue(paused.base === first, "the snapshot that came while paused is not shown")
    }

    /// The live status line's elapsed time comes from the terminal's clock, not the wall's:
    /// a stream started at t=100 s shows 0:42 at t=142 s, whenever the test runs.
    func testLiveClockComesFromTheTerminal() throws {
        let session = Session(profile: ProfileBuilder(format: "live", metrics: [ValueType("samples", "count")]).freeze(source: "-"),
                              fileName: "-")
        let stream = Stream([try FormatRegistry.load(source: MemorySource(Array("main;work (app.py:1) 3\n".utf8)), name: "-")])
        stream.started = 100
        let term = MemoryTerminal(size: Size(width: 100, height: 24), events: [.tick])
        term.now = 142
        _ = try Viewer.loop(session, terminal: term, options: ViewerOptions(), live: stream) { _ in nil }
        XCTAssertEqual(term.frames.count, 2, "a live session redraws on the clock")
        let status = term.frames.last.map { String($0.grid.dump().split(separator: "\n").last ?? "") } ?? ""
        XCTAssertTrue(status.contains("LIVE  3 samples") && status.contains("0:42"), status)
    }

    /// Hands out the next profile on each call, as a stream publishing snapshots.
    final class Stream: SnapshotSource {
        var queue: [Profile]
        var current: Profile?
        var generation = 0
        var started = 0.0
        init(_ profiles: [Profile]) { queue = profiles }
        func setWindow(_ seconds: Int?) {}
        func snapshot() -> (Profile?, LiveStatus) {
            if !queue.isEmpty { current = queue.removeFirst(); generation += 1 }
            var status = LiveStatus()
            status.state = .live
            status.generation = generation
            status.started = started
            status.samples = 3
            return (current, status)
        }
    }

    /// `L` on a profile read with lines merged: the reducer reads no file but asks the loop
    /// (a `.read` effect), which reads the file once and hands the key back.
    func testSplittingLinesIsAnEffectTheLoopCarriesOut() throws {
        let path = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/etl.pyspy.txt").path
        let p = try FormatRegistry.load(path: path, mergeLines: true)
        let reload = try XCTUnwrap(FormatRegistry.lineLevelReload(of: p, path: path, format: nil, linesKept: false))
        var reloads = 0
        let session = Session(profile: p, fileName: "etl.pyspy.txt", reloadWithLines: { seed in reloads += 1; return try reload(seed) })
        let size = Size(width: 80, height: 24)
        var s = Viewer.initialState(session, size: size, options: ViewerOptions())
        let before = s
        XCTAssertEqual(s.reduce(.char("L"), deriver: session, size: size), [.read(then: .char("L"))])
        XCTAssertEqual(reloads, 0, "the reducer read nothing")
        XCTAssertFalse(s.splitLines)
        XCTAssertEqual(s.tree, before.tree)
        let term = MemoryTerminal(size: size, events: [.key(.char("L"))])
        let end = try Viewer.loop(session, terminal: term, options: ViewerOptions()) { _ in nil }
        XCTAssertEqual(reloads, 1)
        XCTAssertTrue(end.splitLines)
        XCTAssertEqual(end.message, "one node per line")
        XCTAssertGreaterThan(session.profile(for: end).frames.frameCount, p.frames.frameCount)
    }

    /// `t` on a pprof read with threads merged (the viewer's default): the reducer reads no file
    /// but asks the loop, which reads the file again once, with the thread frames that the usual
    /// read (the reference) has; merging and splitting again reads nothing.
    func testSplittingThreadsMergedWhileReadingIsAnEffectTheLoopCarriesOut() throws {
        let dir = ProcessInfo.processInfo.environment["PERFTOP_CORPUS"]
            ?? TUIFixtures.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus").path
        let path = dir + "/austin-python/test/data/austin.pprof"
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("SKIPPED: ../shared/corpus is absent (set PERFTOP_CORPUS to run the corpus tests)")
        }
        let p = try FormatRegistry.load(path: path, mergeLines: true, mergeThreads: true)
        XCTAssertEqual(p.mergedThreads, 2)
        XCTAssertFalse(p.hasThreads)
        let reload = try XCTUnwrap(FormatRegistry.threadLevelReload(of: p, path: path, format: nil, linesKept: false))
        var reloads = 0
        let session = Session(profile: p, fileName: "austin.pprof",
                              reloadWithThreads: { lines, seed in reloads += 1; return try reload(lines, seed) })
        let size = Size(width: 80, height: 24)
        var s = Viewer.initialState(session, size: size, options: ViewerOptions())
        XCTAssertEqual(s.reduce(.char("t"), deriver: session, size: size), [.read(then: .char("t"))])
        XCTAssertEqual(reloads, 0, "the reducer read nothing")
        XCTAssertTrue(s.threadsMerged)
        let term = MemoryTerminal(size: size, events: [.key(.char("t")), .key(.char("t")), .key(.char("t"))])
        let end = try Viewer.loop(session, terminal: term, options: ViewerOptions()) { _ in nil }
        XCTAssertEqual(reloads, 1)
        XCTAssertFalse(end.threadsMerged)
        XCTAssertEqual(end.message, "threads split")
        let usual = try FormatRegistry.load(path: path, mergeLines: true)
        let shown = session.profile(for: end)
        func roots(_ q: Profile) -> [String] { q.tree.children(0).map { q.frames.name(ofFrame: q.tree.frame[Int($0)]) }.sorted() }
        XCTAssertEqual(roots(shown), roots(usual))
        XCTAssertEqual(roots(shown).filter { $0.hasPrefix("thread (") }.count, 2)
        XCTAssertEqual(shown.total(metric: shown.defaultMetric), usual.total(metric: usual.defaultMetric))
    }
}
