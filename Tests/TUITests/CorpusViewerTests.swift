import Foundation
import XCTest
import ProfileModel
@testable import TUI

/// Every corpus profile perftop reads goes through every view and key of the viewer, at a
/// normal and a cramped size: no crash, no hang, and the screen always has its status line.
final class CorpusViewerTests: XCTestCase {
    func testEveryCorpusProfileSurvivesEveryView() throws {
        let dir = ProcessInfo.processInfo.environment["PERFTOP_CORPUS"]
            ?? TUIFixtures.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus").path
        guard FileManager.default.fileExists(atPath: dir + "/EXPECTED.json") else {
            throw XCTSkip("SKIPPED: ../shared/corpus is absent (set PERFTOP_CORPUS to run the corpus tests)")
        }
        let list = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/EXPECTED.json"))) as! [[String: Any]]
        let script = "jjk<PgDn>G g*H-ll h" + "1sSs<Enter>jk<Enter>" + "3jj<Enter><Esc>" + "4ll" + "5jjhl<Enter>k<Esc>"
            + "/a<Enter>nN" + "fF" + "x" + "X" + "m" + "t" + "L" + "?q"
        var viewed = 0
        for entry in list {
            let path = dir + "/" + (entry["path"] as! String)
            guard let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int, size <= 3_000_000,
                  let p = try? FormatRegistry.load(path: path) else { continue }
            let session = Session(profile: p, fileName: path)
            for (w, h) in [(80, 24), (40, 10)] {
                let size = Size(width: w, height: h)
                var s = Viewer.initialState(session, size: size, options: ViewerOptions())
                for k in try Key.parse(script) {
                    s.handle(k, deriver: session, size: size)
                    let screen = Screen.render(s, session: session, size: size, options: RenderOptions()).dump()
                    XCTAssertEqual(screen.split(separator: "\n", omittingEmptySubsequences: false).count, h + 1)
                    if s.quit { break }
                }
            }
            viewed += 1
        }
        print("viewer: \(viewed) corpus profiles through every view")
        XCTAssertGreaterThan(viewed, 200)
    }
}
