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

    /// The callers view shows each call's change: its base weight is the base profile's own
    /// weight through the same call (main -> parse here), as its callees(of:) gives it.
    func testCallersViewComparesEachCall() throws {
        let session = try TUIFixtures.diffSession(base: "etl.pyspy.txt", new: "etl-fixed.pyspy.txt")
        let (state, screen) = try runKeys(session, keys: "1/^main$<Enter>3")
        XCTAssertTrue(screen.contains("change"), screen)
        let model = state.callersModel(deriver: session)
        let pyspy = try XCTUnwrap(session.diffBase?.base)
        func fn(_ p: Profile, _ name: String) throws -> Int32 {
            try XCTUnwrap((0..<Int32(p.functions.count)).first { p.frames.name(ofFunction: $0) == name })
        }
        let parseNew = try fn(session.base, "parse")
        let i = try XCTUnwrap(model.callees.firstIndex { $0.function == parseNew })
        let expected = try XCTUnwrap(pyspy.callees(of: fn(pyspy, "main")).first { $0.function == (try? fn(pyspy, "parse")) })
        XCTAssertEqual(model.baseCallees[i], expected.weight[0])
        XCTAssertGreaterThan(model.baseCallees[i], 0)
    }
}
