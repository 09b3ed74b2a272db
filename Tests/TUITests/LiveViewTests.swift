import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// Live snapshots replace the profile under the viewer; what the user looks at stays put.
final class LiveViewTests: XCTestCase {
    func testSelectionExpansionAndZoomSurviveNewSnapshots() throws {
        let bytes = try [UInt8](Data(contentsOf: TUIFixtures.repoRoot.appendingPathComponent("SampleProfiles/etl.pyspy.txt")))
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        let parser = StreamParser(kind: .folded)
        func feed(_ range: Range<Int>) {
            for l in lines[range] { (Array(l) + [0x0A]).withUnsafeBytes { try? parser.feed($0) } }
        }
        let size = Size(width: 80, height: 24)
        let empty = ProfileBuilder(format: "live", metrics: [ValueType("samples", "count")]).freeze(source: "-")
        let session = Session(profile: empty, fileName: "-")
        var live = LiveStatus()
        live.state = .live
        session.live = live
        var s = Viewer.initialState(session, size: size, options: ViewerOptions())
        XCTAssertFalse(s.tree.opened, "nothing to open yet")
        // The first half arrives: the tree opens on its hot path.
        feed(0..<lines.count / 2)
        session.adopt(parser.snapshot(source: "-"), into: &s, size: size)
        XCTAssertTrue(s.tree.opened)
        var p = session.profile(for: s)
        let selected = p.frames.name(ofFunction: p.function(ofNode: s.tree.selected))
        // The user moves somewhere else and zooms the flame graph.
        s.handle(.char("k"), deriver: session, size: size)
        p = session.profile(for: s)
        let picked = p.tree.framePath(to: s.tree.selected)
        let expandedPaths = Set(s.tree.expanded.map { p.tree.framePath(to: $0) })
        s.handle(.char("5"), deriver: session, size: size)
        s.handle(.enter, deriver: session, size: size)
        let zoomPath = p.tree.framePath(to: s.flame.zoom.last!)
        // The rest arrives: totals grow, the selection, expansion and zoom are the same frames.
        feed(lines.count / 2..<lines.count)
        let before = p.total(metric: 0)
        session.adopt(parser.snapshot(source: "-"), into: &s, size: size)
        p = session.profile(for: s)
        XCTAssertGreaterThan(p.total(metric: 0), before)
        XCTAssertEqual(p.tree.framePath(to: s.tree.selected), picked)
        XCTAssertEqual(Set(s.tree.expanded.map { p.tree.framePath(to: $0) }), expandedPaths)
        XCTAssertEqual(p.tree.framePath(to: s.flame.zoom.last!), zoomPath)
        XCTAssertNotEqual(selected, "")
        // The status line says live and counts the samples.
        let screen = Screen.render(s, session: session, size: size, options: RenderOptions()).dump()
        XCTAssertTrue(screen.contains("LIVE"), screen)
    }

    func testPauseKeepsTheSnapshot() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let size = Size(width: 80, height: 24)
        var s = Viewer.initialState(session, size: size, options: ViewerOptions())
        s.handle(.char("p"), deriver: session, size: size)
        XCTAssertFalse(s.paused, "a file is not a stream")
        session.live = LiveStatus()
        s.handle(.char("p"), deriver: session, size: size)
        XCTAssertTrue(s.paused)
        XCTAssertTrue(Screen.render(s, session: session, size: size, options: RenderOptions()).dump().contains("paused"))
        s.handle(.char("p"), deriver: session, size: size)
        XCTAssertFalse(s.paused)
    }
}
