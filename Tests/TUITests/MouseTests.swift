import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// The mouse through the viewer's own loop on an in-memory terminal. Where to click is read
/// off the screen the loop drew (the text under the pointer), never from the hit-test code,
/// and the result is checked against what the screen showed there.
final class MouseTests: XCTestCase {
    let size = Size(width: 80, height: 24)

    /// Runs `keys`, then the mouse events `clicks` makes from the screen drawn after them.
    func run(_ session: Session, keys: String, clicks: (_ screen: [String]) -> [MouseEvent]) throws -> (AppState, [String], [String]) {
        let (_, before) = try runKeys(session, keys: keys)
        let lines = before.components(separatedBy: "\n")
        let events = try Key.parse(keys).map { Event.key($0) } + clicks(lines).map { Event.mouse($0) }
        let term = MemoryTerminal(size: size, events: events)
        let s = try Viewer.loop(session, terminal: term, options: ViewerOptions()) { _ in nil }
        let after = term.frames.last!.grid.dump().components(separatedBy: "\n")
        return (s, lines, after)
    }

    /// The (column, row) of the first occurrence of `text` on screen, at or below row `from`.
    func find(_ text: String, in lines: [String], from: Int = 0) -> (x: Int, y: Int)? {
        for (y, l) in lines.enumerated() where y >= from {
            if let r = l.range(of: text) { return (l.distance(from: l.startIndex, to: r.lowerBound), y) }
        }
        return nil
    }

    func testClickSelectsTheRowUnderThePointerAndDoubleClickOpensItsCallers() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        var target: (x: Int, y: Int)?
        let (s, lines, _) = try run(session, keys: "1") { lines in
            target = self.find("flatten", in: lines, from: 2)
            return target.map { [MouseEvent(.press, x: $0.x, y: $0.y)] } ?? []
        }
        XCTAssertNotNil(target, lines.joined(separator: "\n"))
        let p = session.profile(for: s)
        XCTAssertEqual(s.selectedFunction.map { p.frames.name(ofFunction: $0) }, "flatten")
        XCTAssertEqual(s.view, .functions)
        let (d, _, after) = try run(session, keys: "1") { lines in
            let t = self.find("flatten", in: lines, from: 2)!
            return [MouseEvent(.press, x: t.x, y: t.y), MouseEvent(.doubleClick, x: t.x, y: t.y)]
        }
        XCTAssertEqual(d.view, .callers, after.joined(separator: "\n"))
        XCTAssertTrue(after.contains { $0.contains("Callers of flatten") }, after.joined(separator: "\n"))
    }

    func testClickATabSwitchesViews() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        for (label, view) in [("Flame", ViewKind.flame), ("Fn", .functions), ("Inverted", .inverted), ("Callers", .callers)] {
            let (s, lines, _) = try run(session, keys: "") { lines in
                guard let t = self.find(label, in: [lines[0]]) else { return [] }
                return [MouseEvent(.press, x: t.x + 1, y: 0)]
            }
            XCTAssertEqual(s.view, view, "\(label) in: \(lines[0])")
        }
    }

    func testClickTheMarkerExpandsAndCollapsesDoubleClickToggles() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        // The first collapsed node on the opening screen (the hot path is expanded).
        var row = ""
        let (s, _, after) = try run(session, keys: "") { lines in
            guard let t = self.find("▸", in: lines, from: 2) else { return [] }
            row = lines[t.y]
            return [MouseEvent(.press, x: t.x, y: t.y)]
        }
        XCTAssertFalse(row.isEmpty, "a collapsed node on screen")
        let name = row.split(separator: "▸")[1].split(separator: " ")[0]
        // It is selected and expanded: its row now shows the expanded marker, and its
        // children are drawn below it.
        let n = s.tree.selected
        XCTAssertEqual(session.profile(for: s).frames.frame(session.profile(for: s).tree.frame[Int(n)]).name, String(name))
        XCTAssertTrue(s.tree.expanded.contains(n))
        XCTAssertTrue(after.contains { $0.contains("▾ \(name)") }, after.joined(separator: "\n"))
        // A second click on the marker collapses it again.
        let (s2, _, _) = try run(session, keys: "") { lines in
            let t = self.find("▸", in: lines, from: 2)!
            return [MouseEvent(.press, x: t.x, y: t.y), MouseEvent(.press, x: t.x, y: t.y)]
        }
        XCTAssertFalse(s2.tree.expanded.contains(s2.tree.selected))
        // A double click on the name (not the marker) expands it once.
        let (s3, _, _) = try run(session, keys: "") { lines in
            let t = self.find("▸", in: lines, from: 2)!
            return [MouseEvent(.press, x: t.x + 3, y: t.y), MouseEvent(.doubleClick, x: t.x + 3, y: t.y)]
        }
        XCTAssertEqual(s3.tree.selected, n)
        XCTAssertTrue(s3.tree.expanded.contains(n))
    }

    func testFlameClickSelectsTheSpanAndDoubleClickZooms() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let (s, _, after) = try run(session, keys: "5") { lines in
            guard let t = self.find("dedupe", in: lines, from: 2) else { return [] }
            return [MouseEvent(.press, x: t.x + 1, y: t.y), MouseEvent(.doubleClick, x: t.x + 1, y: t.y)]
        }
        let p = session.profile(for: s)
        XCTAssertEqual(p.frames.frame(p.tree.frame[Int(s.flame.selected)]).name, "dedupe")
        XCTAssertEqual(s.flame.zoom.last.map { p.frames.frame(p.tree.frame[Int($0)]).name }, "dedupe")
        XCTAssertTrue(after[1].contains("zoom: dedupe"), after[1])
    }

    func testWheelMovesTheSelectionThreeRows() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let (start, _) = try runKeys(session, keys: "1")
        let (s, _, _) = try run(session, keys: "1") { _ in [MouseEvent(.wheelDown, x: 10, y: 10), MouseEvent(.wheelDown, x: 10, y: 10)] }
        XCTAssertEqual(s.fnSelected, start.fnSelected + 6)
        let (u, _, _) = try run(session, keys: "1jjjjjjj") { _ in [MouseEvent(.wheelUp, x: 10, y: 10)] }
        XCTAssertEqual(u.fnSelected, start.fnSelected + 7 - 3)
    }

    func testClickClosesAnOverlayAndIsIgnoredWhileTyping() throws {
        let session = try TUIFixtures.session("etl.pyspy.txt")
        let (s, _, _) = try run(session, keys: "?") { _ in [MouseEvent(.press, x: 5, y: 5)] }
        XCTAssertNil(s.overlay)
        let (t, _, _) = try run(session, keys: "/fl") { _ in [MouseEvent(.press, x: 0, y: 0)] }
        XCTAssertTrue(t.searching)
        XCTAssertEqual(t.query, "fl")
    }
}
