import XCTest
import ProfileModel
@testable import TUI

/// The viewer's diff mode keeps the base in step with what the user does to the new profile.
final class DiffViewTests: XCTestCase {
    /// f (focus) on a function carries over to the base by the diff's own matching, across
    /// formats too: py-spy's base keeps exactly the stacks through its dedupe.
    func testFocusCarriesOverToTheBaseAcrossFormats() throws {
        let session = try TUIFixtures.diffSession(base: "etl.pyspy.txt", new: "etl.prof")
        let (state, _) = try runKeys(session, keys: "/^dedupe$<Enter>f")
        let focus = try XCTUnwrap(state.focus)
        XCTAssertEqual(session.base.frames.name(ofFunction: focus), "dedupe")
        let base = try XCTUnwrap(session.baseProfile(for: state))
        let pyspy = try XCTUnwrap(session.diffBase?.base)
        let dedupe = try XCTUnwrap((0..<pyspy.functions.count).first { pyspy.frames.name(ofFunction: Int32($0)) == "dedupe" })
        XCTAssertEqual(base.total(metric: 0), pyspy.functions.totalWeight[0][dedupe])
        XCTAssertGreaterThan(base.total(metric: 0), 0)
    }

    /// x (hide) merges the function away on both sides, so it is not reported as gone.
    func testHiddenFunctionIsHiddenOnBothSides() throws {
        let session = try TUIFixtures.diffSession(base: "etl.pyspy.txt", new: "etl-fixed.pyspy.txt")
        let (state, _) = try runKeys(session, keys: "/^flatten$<Enter>x")
        XCTAssertEqual(state.hidden.count, 1)
        let d = try XCTUnwrap(session.diff(for: state))
        let base = try XCTUnwrap(session.baseProfile(for: state))
        XCTAssertFalse(d.gone.contains { base.frames.name(ofFunction: $0) == "flatten" && base.functions.totalWeight[0][Int($0)] > 0 })
        XCTAssertFalse((0..<base.functions.count).contains { base.frames.name(ofFunction: Int32($0)) == "flatten" && base.functions.totalWeight[0][$0] > 0 })
    }
}
