import XCTest
import ProfileModel
@testable import TUI

/// The session's caches are keyed by profiles they do not keep alive. A key must match only
/// its own profile: after that profile is gone, not a new one at the same address.
final class SessionCacheTests: XCTestCase {
    func testKeysMatchOnlyTheirOwnLiveProfile() throws {
        let text = "main;work (app.py:1) 3\nmain;idle (app.py:2) 1\n"
        var first: Profile? = try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "a.txt")
        let key = Same(first!)
        XCTAssertTrue(key.is(first!))
        XCTAssertEqual(key, Same(first!))
        first = nil
        XCTAssertNil(key.object, "the key did not keep the profile alive")
        // Whatever is allocated now, perhaps at the old address, is not the keyed profile.
        for _ in 0..<16 {
            let next = try FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "b.txt")
            XCTAssertFalse(key.is(next))
            XCTAssertNotEqual(key, Same(next))
        }
        XCTAssertNotEqual(Same<Profile>(), Same<Profile>(), "an empty key matches nothing")
    }

    /// Search results follow the profile they were made for: a live snapshot replacing the
    /// loaded profile gets its own matches, not the cached ones.
    func testMatchesFollowAReplacedProfile() throws {
        let session = try TUIFixtures.session(folded: "main;work (app.py:1) 3\n")
        let s = AppState(metric: 0)
        XCTAssertEqual(session.matches("idle", in: session.profile(for: s)).count, 0)
        session.replaceBase(try FormatRegistry.load(source: MemorySource(Array("main;work (app.py:1) 3\nmain;idle (app.py:2) 1\n".utf8)), name: "t"))
        XCTAssertEqual(session.matches("idle", in: session.profile(for: s)).count, 1)
    }

    /// The source overlay reads its file once, not on every frame (the loop redraws often):
    /// with the file gone after the first frame, the next frame still shows it.
    func testSourceViewReadsTheFileOnce() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("perftop-src-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/workload/etl.py")
        try FileManager.default.copyItem(at: src, to: dir.appendingPathComponent("etl.py"))
        let session = try TUIFixtures.session("etl.pyspy.txt")
        session.sourceRoots = [dir.path]
        let size = Size(width: 80, height: 24)
        let (s, first) = try runKeys(session, keys: "v")
        XCTAssertTrue(first.contains("if key in seen:"), first)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("etl.py"))
        let again = Screen.render(s, session: session, size: size, options: RenderOptions()).dump()
        XCTAssertEqual(again, first)
        // A session that has not read it finds it gone.
        let fresh = try TUIFixtures.session("etl.pyspy.txt")
        fresh.sourceRoots = [dir.path]
        XCTAssertTrue(try runKeys(fresh, keys: "v").1.contains("source not found"))
    }

    /// A search returns its error with its matches: an invalid pattern matches as text and says
    /// so, and a later valid query (or a cached one) carries its own error, not a stale one.
    func testMatchesCarryTheirOwnError() throws {
        let text = "main;f(x) 3\nmain;g 2\nmain;F(x) 1\n"
        let session = try TUIFixtures.session(folded: text)
        let p = session.profile(for: AppState(metric: 0))
        // The reference: function names found by plain text comparison, not by the viewer.
        func named(_ names: Set<String>) -> Set<Int32> {
            Set((0..<p.functions.count).map(Int32.init).filter { names.contains(p.frames.name(ofFunction: $0)) })
        }
        let invalid = session.matches("f(x", in: p)
        XCTAssertEqual(invalid.functions, named(["f(x)", "F(x)"]), "lower case matches either case, as text")
        XCTAssertEqual(invalid.error, "not a regular expression; matching as text")
        let valid = session.matches("^g$", in: p)
        XCTAssertEqual(valid.functions, named(["g"]))
        XCTAssertNil(valid.error)
        XCTAssertEqual(session.matches("f(x", in: p).error, invalid.error)
        XCTAssertEqual(session.matches("F(x", in: p).functions, named(["F(x)"]), "a capital letter matches case")
        let (_, screen) = try runKeys(session, keys: "/f(x")
        XCTAssertTrue(screen.contains("2 matches (not a regular expression; matching as text)"), screen)
        let (_, plain) = try runKeys(session, keys: "/^g$")
        XCTAssertTrue(plain.contains("1 match ") && !plain.contains("not a regular"), plain)
    }

    /// The deriver re-reads the file for line-level data only when the state shows it (the
    /// summary), once, and drawing from its derived values reads nothing more.
    func testDerivingReadsOnlyWhatTheStateShows() throws {
        let path = TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/etl.pyspy.txt").path
        // Read as `perftop view` reads it: lines merged, split again only when asked.
        let p = try FormatRegistry.load(path: path, mergeLines: true)
        let reload = try XCTUnwrap(FormatRegistry.lineLevelReload(of: p, path: path, format: nil, linesKept: false))
        var reloads = 0
        let session = Session(profile: p, fileName: "etl.pyspy.txt", reloadWithLines: { seed in reloads += 1; return try reload(seed) })
        let size = Size(width: 80, height: 24)
        var s = Viewer.initialState(session, size: size, options: ViewerOptions())
        let plain = session.derive(s, size: size)
        XCTAssertNil(plain.summary)
        XCTAssertNil(plain.source)
        XCTAssertEqual(reloads, 0, "nothing on screen needs lines")
        s.overlay = .summary
        let derived = session.derive(s, size: size)
        XCTAssertEqual(reloads, 1)
        let summary = try XCTUnwrap(derived.summary)
        XCTAssertGreaterThan(summary.profile.frames.frameCount, p.frames.frameCount, "one frame per line")
        let options = RenderOptions(ascii: false, color: .none)
        let first = Screen.render(s, derived: derived, size: size, options: options, now: 0).dump()
        for _ in 0..<3 { XCTAssertEqual(Screen.render(s, derived: derived, size: size, options: options, now: 0).dump(), first) }
        _ = session.derive(s, size: size)
        XCTAssertEqual(reloads, 1, "the line-level profile is read once")
        XCTAssertTrue(first.contains("What kind of slow"), first)
    }
}
