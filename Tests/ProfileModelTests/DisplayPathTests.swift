import Foundation
import XCTest
@testable import ProfileModel

/// Short display paths, on the paths real recordings hold.
final class DisplayPathTests: XCTestCase {
    func testClassifiesRealPaths() {
        let cases: [(String, DisplayPath.Kind)] = [
            // py-spy --full-filenames under pyenv (Tests/Recursive/walk.pyspy.txt)
            ("/root/.pyenv/versions/3.11.7/lib/python3.11/json/encoder.py", .stdlib("json/encoder.py")),
            ("/root/.pyenv/versions/3.11.7/lib/python3.11/threading.py", .stdlib("threading.py")),
            // a venv's packages, Debian's, a free-threaded build, compiled modules
            ("/home/u/proj/.venv/lib/python3.12/site-packages/numpy/core/numeric.py", .sitePackages("numpy/core/numeric.py")),
            ("/usr/lib/python3/dist-packages/yaml/reader.py", .sitePackages("yaml/reader.py")),
            ("/usr/lib/python3.13t/dataclasses.py", .stdlib("dataclasses.py")),
            ("/usr/lib64/python3.9/lib-dynload/_json.cpython-39-x86_64-linux-gnu.so", .stdlib("_json.cpython-39-x86_64-linux-gnu.so")),
            (#"C:\Python311\Lib\json\decoder.py"#, .stdlib("json/decoder.py")),
            (#"C:\Python311\Lib\site-packages\requests\api.py"#, .sitePackages("requests/api.py")),
            ("/work/wt-a/Tests/Recursive/walk.py", .other),
            ("/home/u/python3.11/notes.py", .other),       // no lib/ before it: not an install
            ("<frozen importlib._bootstrap>", .other),
            ("etl.py", .other),
        ]
        for (path, kind) in cases { XCTAssertEqual(DisplayPath.classify(path), kind, path) }
        XCTAssertEqual(DisplayPath.topModule("json/encoder.py"), "json")
        XCTAssertEqual(DisplayPath.topModule("dataclasses.py"), "dataclasses")
        XCTAssertTrue(DisplayPath.isFrozenImportlib("<frozen importlib._bootstrap_external>"))
    }

    func testProjectPrefixOfARealRecording() throws {
        let p = try FormatRegistry.load(path: TransformStepTests.walk)
        let d = DisplayPath(profile: p)
        // Every project file of the recording is walk.py in one directory.
        XCTAssertEqual(d.projectPrefix, "/work/wt-a/Tests/Recursive/")
        XCTAssertEqual(d.short("/work/wt-a/Tests/Recursive/walk.py"), "walk.py")
        XCTAssertEqual(d.short("/root/.pyenv/versions/3.11.7/lib/python3.11/copy.py"), "copy.py")
        XCTAssertEqual(DisplayPath(profile: p, enabled: false).short("/work/wt-a/Tests/Recursive/walk.py"),
                       "/work/wt-a/Tests/Recursive/walk.py")
        // Files that share only "/" keep their paths; relative ones are left alone.
        let spread = DisplayPath(files: ["/srv/app/a.py", "/opt/tool/b.py", "rel/c.py"])
        XCTAssertEqual(spread.projectPrefix, "")
        XCTAssertEqual(spread.short("/srv/app/a.py"), "/srv/app/a.py")
        let two = DisplayPath(files: ["/srv/app/pkg/a.py", "/srv/app/b.py", "/usr/lib/python3.11/os.py"])
        XCTAssertEqual(two.short("/srv/app/pkg/a.py"), "pkg/a.py")
        XCTAssertEqual(two.short("/usr/lib/python3.11/os.py"), "os.py")
    }
}
