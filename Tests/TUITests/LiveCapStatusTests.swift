import XCTest
import ProfileModel
@testable import TUI

/// The live status line says when the memory cap stopped the tree, and how much was not counted.
final class LiveCapStatusTests: XCTestCase {
    func testTheStatusLineNamesTheCapAndTheDroppedCount() {
        var l = LiveStatus()
        l.state = .live
        l.samples = 1200
        XCTAssertFalse(Screen.liveFacts(l, paused: false, now: 0).contains("MEMORY CAP"))
        l.capped = true
        l.dropped = 345
        let text = Screen.liveFacts(l, paused: false, now: 0)
        XCTAssertTrue(text.contains("MEMORY CAP (--max-memory): tree stopped, 345 lines not counted"), text)
        l.droppedUnit = "bytes"
        XCTAssertTrue(Screen.liveFacts(l, paused: false, now: 0).contains("345 bytes not counted"))
    }
}
