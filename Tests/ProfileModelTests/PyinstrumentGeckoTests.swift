import Foundation
import XCTest
@testable import ProfileModel

/// pyinstrument (`-r json`, `.pyisession`, HTML renderer data) and Firefox gecko (raw and processed)
/// readers, against the corpus facts (EXPECTED.json, SOURCES.md) and hand-written inputs.
final class PyinstrumentGeckoTests: XCTestCase {

    // MARK: helpers

    func loadText(_ text: String, format: String? = nil, chunk: Int = 1 << 20) throws -> Profile {
        try loadBytes(Array(text.utf8), format: format, chunk: chunk)
    }

    func loadBytes(_ bytes: [UInt8], format: String? = nil, chunk: Int = 1 << 20) throws -> Profile {
        try FormatRegistry.load(source: MemorySource(bytes, chunk: chunk), name: "<test>", format: format)
    }

    func metadata(_ p: Profile, _ key: String) -> String? { p.metadata.first { $0.0 == key }?.1 }

    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6, _ msg: String = "",
               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: tolerance * max(1, abs(b)), msg, file: file, line: line)
    }

    func threadNodes(_ p: Profile) -> [Int32] {
        p.tree.children(0).filter { p.frames.frameKind[Int(p.tree.frame[Int($0)])] == .thread }
    }

    func nodeName(_ p: Profile, _ n: Int32) -> String { p.frames.name(ofFrame: p.tree.frame[Int(n)]) }

    /// The first node under the root (and under a thread root) that is a real frame.
    func firstFrameNodes(_ p: Profile) -> [Int32] {
        var out: [Int32] = []
        for c in p.tree.children(0) {
            if p.frames.frameKind[Int(p.tree.frame[Int(c)])].isGrouping { out += p.tree.children(c) } else { out.append(c) }
        }
        return out
    }

    func selfOf(_ p: Profile, _ name: String, metric: Int = 0) -> Double? {
        p.functionIndex(name: name).map { p.functions.selfWeight[metric][$0] }
    }

    func totalOf(_ p: Profile, _ name: String, file: String? = nil, metric: Int = 0) -> Double? {
        p.functionIndex(name: name, fileSuffix: file).map { p.functions.totalWeight[metric][$0] }
    }

    /// Functions sorted by self weight, heaviest first.
    func topSelf(_ p: Profile, _ n: Int, metric: Int = 0) -> [String] {
        (0..<p.functions.count).sorted { p.functions.selfWeight[metric][$0] > p.functions.selfWeight[metric][$1] }
            .prefix(n).map { p.frames.name(ofFunction: Int32($0)) }
    }

    func number(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }

    func ourReader(_ path: String) throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let prefix = Array(data.prefix(1 << 16))
        return prefix.withUnsafeBytes { p in
            FormatRegistry.readers.first { $0.sniff(p, complete: data.count <= 1 << 16) == .yes }?.name
        }
    }

    // MARK: pyinstrument corpus

    func testPyinstrumentCorpus() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format.hasPrefix("pyinstrument-") }
        XCTAssertEqual(Set(entries.map(\.format)), ["pyinstrument-json", "pyinstrument-session", "pyinstrument-html-data"])
        for e in entries {
            let path = dir + "/" + e.path
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "pyinstrument", "\(e.path): detected by content")
            XCTAssertEqual(p.metrics, [ValueType("time", "seconds")], e.path)
            XCTAssertTrue(p.warnings.isEmpty, "\(e.path): \(p.warnings)")
            XCTAssertNil(p.functionIndex(name: "[self]"), "\(e.path): [self] frames fold into their parent")
            XCTAssertEqual(p.sampleCount, e.facts["sample_count"] as? Int, e.path)
            switch e.format {
            case "pyinstrument-json":
                // The processed tree: root <module>, total = the root's time, a little under the duration.
                let roots = firstFrameNodes(p)
                XCTAssertEqual(roots.map { nodeName(p, $0) }, [e.facts["root"] as! String], e.path)
                XCTAssertEqual(metadata(p, "form"), "json")
                let duration = number(e.facts["duration"])
                close(Double(metadata(p, "duration") ?? "") ?? .nan, duration, 1e-9, e.path)
                // Times are printed with 6 decimals, so children may add up to a few µs more than
                // their parent; the total is the root's time within that rounding.
                close(p.total(metric: 0), 1.406319, 1e-5, "root_frame.time")
                XCTAssertLessThanOrEqual(p.total(metric: 0), duration)
                XCTAssertGreaterThan(p.total(metric: 0), 0.99 * duration)
                // Self = time − children: leaf_cpu's own time is its [self] child (0.498870).
                close(selfOf(p, "leaf_cpu") ?? .nan, 0.498870, 1e-9)
                close(totalOf(p, "leaf_cpu") ?? .nan, 0.656038, 1e-5)
                // main: 1.406319 − (1.199966 + 0.200783) left over from pruned children.
                close(selfOf(p, "main") ?? .nan, 1.406319 - 1.199966 - 0.200783, 1e-6)
                XCTAssertNotNil(p.functionIndex(name: "JSONDecoder.raw_decode", fileSuffix: "json/decoder.py"),
                                "class_name qualifies the method")
                XCTAssertEqual(p.frames.line(ofFunction: Int32(p.functionIndex(name: "leaf_cpu")!)), 3)
                let sqrt = p.functionIndex(name: "sqrt")!
                XCTAssertEqual(p.frames.functionKind[sqrt], .native)
                XCTAssertEqual(p.functions.count, 13)
            case "pyinstrument-session":
                // Raw records: the sum of their times, one thread root for MainThread.
                close(p.total(metric: 0), number(e.facts["sum_time"]), 1e-6, e.path)
                XCTAssertEqual(metadata(p, "form"), "session")
                let threads = threadNodes(p)
                XCTAssertEqual(threads.map { nodeName(p, $0) }, ["MainThread"], e.path)
                close(p.tree.totalWeight[0][Int(threads[0])], number(e.facts["sum_time"]), 1e-6)
                XCTAssertEqual(e.facts["frame_records"] as? Int, 705)
                // Lines are definition lines (pyinstrument's identity): one function per def.
                XCTAssertEqual(p.frames.line(ofFunction: Int32(p.functionIndex(name: "leaf_cpu")!)), 3)
                XCTAssertNotNil(p.functionIndex(name: "Ünïcode_entry"))
                XCTAssertNotNil(p.functionIndex(name: "Thread.start", fileSuffix: "threading.py"), "c<class> attribute")
                XCTAssertNotNil(p.functionIndex(name: "lock.acquire", fileSuffix: "<built-in>"))
            case "pyinstrument-html-data":
                let roots = firstFrameNodes(p)
                XCTAssertEqual(roots.map { nodeName(p, $0) }, [e.facts["root"] as! String], e.path)
                close(p.total(metric: 0), number(e.facts["root_time"]), 1e-5, e.path)
                XCTAssertEqual(metadata(p, "form"), "html-data")
                XCTAssertEqual(topSelf(p, 1), ["_SSLSocket.read"], "class from the c… attribute")
            default:
                XCTFail("unexpected format \(e.format)")
            }
        }
    }

    /// pyinstrument.json, .pyisession and .speedscope.json come from one run: the same totals and
    /// heavy functions, within what pyinstrument's processing (pruning small nodes) changes.
    func testPyinstrumentFormsOfOneRunAgree() throws {
        let dir = try Fixtures.requireCorpus() + "/generated/pyinstrument/"
        let json = try load(dir + "pyinstrument.json")
        let session = try load(dir + "pyinstrument.pyisession")
        let speedscope = try load(dir + "pyinstrument.speedscope.json")
        XCTAssertEqual(json.format, "pyinstrument")
        XCTAssertEqual(session.format, "pyinstrument")
        XCTAssertEqual(speedscope.format, "speedscope")
        let sm = speedscope.metricIndex(named: "time")!
        XCTAssertEqual(speedscope.metrics[sm].unit, "seconds")
        let totals = [json.total(metric: 0), session.total(metric: 0), speedscope.total(metric: sm)]
        for t in totals { close(t, totals[0], 0.01, "totals \(totals)") }
        XCTAssertEqual(json.sampleCount, session.sampleCount)
        // The heaviest functions by self time are the same two in the raw and processed trees.
        XCTAssertEqual(Set(topSelf(json, 2)), ["leaf_cpu", "JSONDecoder.raw_decode"])
        XCTAssertEqual(Set(topSelf(session, 2)), ["leaf_cpu", "JSONDecoder.raw_decode"])
        // Totals of the functions every form keeps agree.
        for (name, file) in [("<module>", "sampled.py"), ("main", "sampled.py"), ("Ünïcode_entry", "sampled.py"), ("sleep", "<built-in>")] {
            let a = totalOf(json, name, file: file), b = totalOf(session, name, file: file)
            let c = totalOf(speedscope, name, file: file, metric: sm)
            XCTAssertNotNil(a, name); XCTAssertNotNil(b, name); XCTAssertNotNil(c, name)
            close(a ?? 0, c ?? 1, 0.01, "\(name): json vs speedscope")
            close(a ?? 0, b ?? 1, 0.02, "\(name): json vs session")
        }
        for name in ["leaf_cpu", "parse_json", "sqrt", "JSONDecoder.decode"] {
            close(totalOf(json, name) ?? 0, totalOf(session, name) ?? 1, 0.15, "\(name): json vs session")
        }
        // Every function of the processed forms exists in the raw session, same file and def line.
        for p in [json, speedscope] {
            for f in 0..<p.functions.count {
                let fn = Int32(f)
                let name = p.frames.name(ofFunction: fn), file = p.frames.file(ofFunction: fn)
                let match = (0..<session.functions.count).first {
                    session.frames.name(ofFunction: Int32($0)) == name && session.frames.file(ofFunction: Int32($0)) == file
                }
                XCTAssertNotNil(match, "\(p.format): \(name) \(file ?? "") not in the session")
                if let m = match, let line = p.frames.line(ofFunction: fn) {
                    XCTAssertEqual(session.frames.line(ofFunction: Int32(m)), line, name)
                }
            }
        }
    }

    // MARK: pyinstrument hand-written

    func testPyinstrumentJSONTreeSyntheticFramesAndKeyOrder() throws {
        // children before function, [self]/[await]/[out-of-context], an explicit self_time, a class,
        // and children that take more time than their parent (rounding: self 0, no warning).
        let text = #"""
        {"sample_count": 10, "duration": 2.0, "root_frame": {"children": [
            {"function": "[self]", "file_path": "", "line_no": 0, "time": 0.25, "children": []},
            {"function": "wait", "file_path": "a.py", "line_no": 7, "time": 1.0, "class_name": "Pool", "children": [
                {"function": "[await]", "file_path": "", "line_no": 0, "time": 0.75, "children": []}]},
            {"function": "fast", "file_path": "a.py", "line_no": 20, "time": 0.5, "self_time": 0.125, "children": []},
            {"function": "r", "file_path": "a.py", "line_no": 30, "time": 0.1, "children": [
                {"function": "r2", "file_path": "a.py", "line_no": 40, "time": 0.1000001, "children": []}]}
         ], "function": "main", "file_path": "a.py", "file_path_short": "a.py", "line_no": 1, "time": 2.0},
         "target_description": "Program: a.py"}
        """#
        for chunk in [1, 7, 1 << 20] {
            let p = try loadText(text, chunk: chunk)
            XCTAssertEqual(p.format, "pyinstrument")
            XCTAssertEqual(p.sampleCount, 10)
            XCTAssertTrue(p.warnings.isEmpty, "\(p.warnings)")
            // main: 2 − (0.25 + 1 + 0.5 + 0.1) = 0.15 left, plus its [self] child 0.25.
            close(selfOf(p, "main")!, 0.4)
            close(selfOf(p, "Pool.wait")!, 0.25)
            close(selfOf(p, "[await]")!, 0.75)
            XCTAssertEqual(p.frames.functionKind[p.functionIndex(name: "[await]")!], .special)
            close(selfOf(p, "fast")!, 0.125, 1e-9, "explicit self_time")
            XCTAssertEqual(selfOf(p, "r"), 0)
            XCTAssertNil(p.functionIndex(name: "[self]"))
            // Total = the root's time plus what explicit self_time leaves out (0.5 − 0.125 here).
            close(p.total(metric: 0), 2.0 - 0.375 + 0.0000001)
            XCTAssertEqual(metadata(p, "target_description"), "Program: a.py")
        }
        // An empty run: root_frame null.
        let empty = try loadText(#"{"start_time": 1, "duration": 0, "sample_count": 0, "root_frame": null}"#)
        XCTAssertEqual(empty.format, "pyinstrument")
        XCTAssertEqual(empty.total(metric: 0), 0)
        // A [root] wrapper around two roots is dropped.
        let wrapped = try loadText(#"{"sample_count": 2, "root_frame": {"function": "[root]", "file_path": "", "line_no": 0, "time": 3, "children": [{"function": "a", "file_path": "x.py", "line_no": 1, "time": 1, "children": []}, {"function": "b", "file_path": "x.py", "line_no": 2, "time": 2, "children": []}]}}"#)
        XCTAssertEqual(Set(firstFrameNodes(wrapped).map { nodeName(wrapped, $0) }), ["a", "b"])
        XCTAssertEqual(wrapped.total(metric: 0), 3)
    }

    /// Frames written as pyinstrument's renderer writes them are read by bytes, any other
    /// spelling key by key: the golden file as written (a space after each colon), without the
    /// spaces, with two, and with an escape in every name all give its independent reference
    /// stacks (`Scripts/golden_folded.py`), read whole and a few bytes at a time.
    func testPyinstrumentCompactAndOtherSpellingsAgree() throws {
        let json = try String(contentsOfFile: ImportTimeMemrayTests.golden("pyinstrument/pyinstrument.json"), encoding: .utf8)
        let want = GoldenTests.parseFolded(try String(contentsOfFile: ImportTimeMemrayTests.golden("pyinstrument/pyinstrument.folded"), encoding: .utf8))
        XCTAssertTrue(json.contains(#""function": "#), "the golden file is in the renderer's spelling")
        let spellings = [
            "as written": json,
            "no spaces": json.replacingOccurrences(of: #"": "#, with: #"":"#),
            "two spaces": json.replacingOccurrences(of: #"": "#, with: #"":  "#),
            // \u escapes of the same characters: those frames take the key-by-key path.
            "escaped names": json.replacingOccurrences(of: #""function": "m"#, with: #""function": "\u006d"#)
                .replacingOccurrences(of: #""function": "<"#, with: #""function": "\u003c"#)
                .replacingOccurrences(of: #""file_path": "s"#, with: #""file_path": "\u0073"#),
        ]
        for (label, text) in spellings {
            for chunk in [7, 1 << 20] {
                let got = GoldenTests.parseFolded(GoldenTests.canonical(try loadText(text, chunk: chunk)))
                if let d = GoldenTests.difference(got, want) { XCTFail("\(label), chunk \(chunk):\n\(d)") }
            }
        }
        // The full path is the frame's file, not the short one; a later key still counts.
        let p = try loadText(#"{"root_frame": {"function": "f","file_path_short": "a.py","file_path": "/src/a.py","line_no": 12,"time": 0.5,"await_time": 0.000000,"is_application_code": true,"children": [],"class_name": "K"}}"#)
        let f = try XCTUnwrap(p.functionIndex(name: "K.f"))
        XCTAssertEqual(p.frames.file(ofFunction: Int32(f)), "/src/a.py")
        XCTAssertEqual(p.frames.line(ofFunction: Int32(f)), 12)
        XCTAssertEqual(p.total(metric: 0), 0.5)
    }

    func testPyinstrumentSessionRecords() throws {
        let text = #"""
        {"start_time": 1.5, "duration": 1.0, "sample_count": 5, "start_call_stack": [], "program": "x.py", "cpu_time": 0.5,
         "frame_records": [
          [["MainThread\u0000<thread>\u000012345", "main\u0000x.py\u00001\u0001l3", "work\u0000x.py\u000010\u0001cWorker\u0001l12"], 0.5],
          [["MainThread\u0000<thread>\u000012345", "main\u0000x.py\u00001\u0001l4", "work\u0000x.py\u000010\u0001cWorker\u0001l14"], 0.25],
          [["MainThread\u0000<thread>\u000012345", "main\u0000x.py\u00001\u0001l5"], 0.125],
          [["Thread-1\u0000<thread>\u000099", "run\u0000x.py\u000020\u0001l21", "sleep\u0000<built-in>\u00000"], 0.0625],
          [["[out-of-context]"], 0.0625]
         ]}
        """#
        for chunk in [1, 7, 1 << 20] {
            let p = try loadText(text, chunk: chunk)
            XCTAssertEqual(p.format, "pyinstrument")
            XCTAssertEqual(metadata(p, "form"), "session")
            XCTAssertEqual(p.sampleCount, 5)
            XCTAssertEqual(p.total(metric: 0), 1.0)
            XCTAssertEqual(threadNodes(p).map { nodeName(p, $0) }, ["MainThread", "Thread-1"])
            // One function per identifier whatever the executing line.
            XCTAssertEqual(selfOf(p, "Worker.work"), 0.75)
            XCTAssertEqual(p.functions.nodes(of: Int32(p.functionIndex(name: "Worker.work")!)).count, 1)
            XCTAssertEqual(selfOf(p, "main"), 0.125)
            XCTAssertEqual(p.frames.line(ofFunction: Int32(p.functionIndex(name: "Worker.work")!)), 10)
            XCTAssertEqual(p.frames.functionKind[p.functionIndex(name: "sleep")!], .native)
            XCTAssertEqual(selfOf(p, "[out-of-context]"), 0.0625)
            XCTAssertEqual(metadata(p, "program"), "x.py")
        }
        // A count that disagrees with the records is reported.
        let off = try loadText(#"{"sample_count": 9, "frame_records": [[["a\u0000a.py\u00001"], 1]]}"#)
        XCTAssertTrue(off.warnings.contains { $0.contains("sample_count") }, "\(off.warnings)")
        // A session cut inside the records keeps the records before the cut.
        let bytes = Array(text.utf8)
        let cutAt = text.utf8.distance(from: text.utf8.startIndex, to: text.range(of: "Thread-1")!.lowerBound.samePosition(in: text.utf8)!)
        let cut = try loadBytes(Array(bytes[0..<cutAt]), format: "pyinstrument")
        XCTAssertEqual(cut.total(metric: 0), 0.875)
        XCTAssertTrue(cut.warnings.contains { $0.contains("ends inside frame record 4") }, "\(cut.warnings)")
    }

    func testPyinstrumentBadInputIsLocatedError() throws {
        let cases: [(String, String)] = [
            (#"{"sample_count": 1, "frame_records": [[["a\u0000a.py\u00001"], "x"]]}"#, "a time"),
            (#"{"sample_count": 1, "frame_records": [[["a\u0000a.py\u00001"], -1]]}"#, "negative"),
            (#"{"sample_count": 1, "frame_records": [[["a\u0000a.py\u00001"]]]}"#, "without a time"),
            (#"{"sample_count": 1, "frame_records": [[]]}"#, "empty frame record"),
            (#"{"sample_count": 1, "frame_records": [[[1], 1]]}"#, "string"),
            (#"{"sample_count": 1, "root_frame": {"function": "a", "children": [1]}}"#, "'{'"),
            (#"{"sample_count": 1, "root_frame": {"function": "a", "children": []}} x"#, "end of input"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try loadText(text, format: "pyinstrument")) { error in
                let e = error as? ProfileError
                XCTAssertNotNil(e?.offset, "\(text): \(error)")
                XCTAssertTrue(e?.message.contains(fragment) ?? false, "'\(fragment)' in \(error)")
            }
        }
        XCTAssertThrowsError(try loadText(#"{"sample_count": 1}"#, format: "pyinstrument")) {
            XCTAssertTrue("\($0)".contains("no 'root_frame'"), "\($0)")
        }
        // Deep trees: legal depth is read, absurd depth is an error, never a stack overflow.
        let depth = 5_000
        var deep = #"{"sample_count": 1, "root_frame": "#
        for i in 0..<depth { deep += #"{"function": "f\#(i % 3)", "file_path": "d.py", "line_no": 1, "time": 1, "children": ["# }
        deep += String(repeating: "]}", count: depth) + "}"
        let p = try loadText(deep)
        XCTAssertEqual(p.maxDepth, depth)
        XCTAssertEqual(p.total(metric: 0), 1)
        let absurd = #"{"sample_count": 1, "root_frame": "# + String(repeating: #"{"children": ["#, count: 150_000)
        XCTAssertThrowsError(try loadText(absurd, format: "pyinstrument")) { XCTAssertNotNil(($0 as? ProfileError)?.offset, "\($0)") }
    }

    // MARK: gecko corpus

    func testGeckoCorpus() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "firefox-gecko" }
        XCTAssertEqual(entries.count, 3)
        // Independently computed (Python, following prefixes): heaviest leaf and deepest stack.
        let known: [String: (leaf: String, file: String, own: Double, depth: Int)] = [
            "speedscope/sample/profiles/Firefox/59/simple-firefox.json": ("d", "file:///Users/jlfwong/code/speedscope/sample/simple.js", 32, 46),
            "speedscope/sample/profiles/Firefox/61/recursion.json": ("gamma", "file:///Users/jlfwong/code/speedscope/sample/programs/javascript/recursion.js", 10, 38),
            "speedscope/sample/profiles/Firefox/63/simple-firefox.json": ("gamma", "http://localhost:8000/simple.js", 27, 37),
        ]
        for e in entries {
            let p: Profile
            do { p = try load(dir + "/" + e.path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "gecko", e.path)
            XCTAssertEqual(p.metrics, [ValueType("samples", "count")], e.path)
            XCTAssertTrue(p.warnings.isEmpty, "\(e.path): \(p.warnings)")
            XCTAssertEqual(metadata(p, "gecko version"), String(e.facts["meta_version"] as! Int), e.path)
            XCTAssertNil(metadata(p, "processed version"), e.path)
            XCTAssertEqual(metadata(p, "host"), "Firefox", e.path)
            let perThread = e.facts["samples_per_thread"] as! [String: Int]
            let threads = threadNodes(p)
            XCTAssertEqual(threads.count, e.facts["threads"] as? Int, e.path)
            for t in threads {
                XCTAssertEqual(p.tree.totalWeight[0][Int(t)], Double(perThread[nodeName(p, t)] ?? -1), "\(e.path): \(nodeName(p, t))")
            }
            XCTAssertEqual(p.sampleCount, perThread.values.reduce(0, +), e.path)
            XCTAssertEqual(p.total(metric: 0), Double(perThread.values.reduce(0, +)), e.path)
            guard let k = known[e.path] else { XCTFail("no known facts for \(e.path)"); continue }
            XCTAssertEqual(topSelf(p, 1), [k.leaf], e.path)
            XCTAssertEqual(selfOf(p, k.leaf), k.own, e.path)
            XCTAssertEqual(p.frames.file(ofFunction: Int32(p.functionIndex(name: k.leaf)!)), k.file, e.path)
            XCTAssertEqual(p.maxDepth, k.depth + 1, "\(e.path): stack depth under the thread root")
            // Every stack starts at the gecko (root) frame under the thread root.
            XCTAssertEqual(threads.flatMap { p.tree.children($0) }.map { nodeName(p, $0) }, ["(root)"], e.path)
        }
    }

    func testGeckoLocations() {
        typealias L = (String, String?, Int?, FrameKind)
        let cases: [(String, L)] = [
            ("emit (resource://a.js -> resource://b.js:150:13)", ("emit", "resource://a.js -> resource://b.js", 150, .function)),
            ("get docShells (resource://t.js:76)", ("get docShells", "resource://t.js", 76, .function)),
            ("f (self-hosted:4142)", ("f", "self-hosted", 4142, .function)),
            ("f (a (b).js:3)", ("f (a", "b).js", 3, .function)),
            ("file:///x/simple.js:1", ("file:///x/simple.js:1", "file:///x/simple.js", 1, .function)),
            ("0x7fff5fbff8a0", ("0x7fff5fbff8a0", nil, nil, .native)),
            ("(root)", ("(root)", nil, nil, .special)),
            ("nsAppShell::ProcessGeckoEvents", ("nsAppShell::ProcessGeckoEvents", nil, nil, .native)),
            ("", ("<unknown>", nil, nil, .native)),
            (" (u:1)", ("(anonymous)", "u", 1, .function)),
        ]
        for (loc, want) in cases {
            let got = FrameResolverProbe.parse(loc)
            XCTAssertEqual(got.0, want.0, loc); XCTAssertEqual(got.1, want.1, loc)
            XCTAssertEqual(got.2, want.2, loc); XCTAssertEqual(got.3, want.3, loc)
        }
    }

    // MARK: gecko hand-written

    /// Tachyon `--gecko`: processed columns, `shared.stringArray` after the threads, weight null.
    static let tachyon = #"""
    {"meta": {"interval": 1.0, "startTime": 0, "version": 32, "preprocessedProfileVersion": 57, "product": "Python",
              "importedFrom": "Tachyon Sampling Profiler", "categories": [{"name": "Other", "color": "grey", "subcategories": ["Other"]}]},
     "libs": [],
     "threads": [
      {"name": "Thread-100", "isMainThread": true, "tid": 100, "pid": "7", "processType": "default",
       "samples": {"stack": [2, 2, 3, null, 1], "time": [0, 1, 2, 3, 4], "eventDelay": [null, null, null, null, null],
                   "weight": null, "weightType": "samples", "length": 5},
       "stackTable": {"frame": [0, 1, 2, 3], "category": [1, 1, 1, 2], "subcategory": [0, 0, 0, 0], "prefix": [null, 0, 1, 1], "length": 4},
       "frameTable": {"address": [-1, -1, -1, -1], "category": [1, 1, 1, 2], "subcategory": [0, 0, 0, 0], "func": [0, 1, 1, 2],
                      "innerWindowID": [null, null, null, null], "implementation": [null, null, null, null],
                      "optimizations": [null, null, null, null], "line": [3, 11, 12, null], "column": [null, 4, null, null],
                      "inlineDepth": [0, 0, 0, 0], "nativeSymbol": [null, null, null, null], "length": 4},
       "funcTable": {"name": [1, 2, 4], "isJS": [true, true, false], "relevantForJS": [true, true, false], "resource": [0, 0, 1],
                     "fileName": [3, 3, null], "lineNumber": [3, 10, null], "columnNumber": [null, null, null], "length": 3},
       "resourceTable": {"lib": [null], "name": [3], "host": [null], "type": [1], "length": 1},
       "markers": {"data": [{"type": "HasGIL", "duration": 1, "tid": 100}], "name": [5], "startTime": [0], "endTime": [1], "phase": [1], "category": [4], "length": 1}},
      {"name": "Thread-200", "isMainThread": false, "tid": 200, "pid": "7",
       "samples": {"stack": [0, 0], "time": [0, 1], "weight": [2.5, 0.5], "weightType": "tracing-ms", "length": 2},
       "stackTable": {"frame": [0], "prefix": [null], "length": 1},
       "frameTable": {"func": [0], "line": [null], "length": 1},
       "funcTable": {"name": [6], "fileName": [3], "lineNumber": [40], "isJS": [true], "length": 1}}
     ],
     "pages": [],
     "shared": {"stringArray": ["(root)", "<module>", "work", "app.py", "<GC>", "Has GIL", "idle"], "sources": {"length": 0, "uuid": [], "filename": []}}}
    """#

    func testGeckoProcessedTachyonShape() throws {
        for chunk in [1, 7, 1 << 20] {
            let p = try loadText(GeckoTestsData.tachyon, chunk: chunk)
            XCTAssertEqual(p.format, "gecko")
            XCTAssertEqual(metadata(p, "processed version"), "57")
            XCTAssertEqual(metadata(p, "imported from"), "Tachyon Sampling Profiler")
            XCTAssertEqual(p.metrics, [ValueType("samples", "count"), ValueType("time", "milliseconds")])
            XCTAssertEqual(p.defaultMetric, 1)
            XCTAssertEqual(p.sampleCount, 7)
            XCTAssertEqual(Set(threadNodes(p).map { nodeName(p, $0) }), ["Thread-100", "Thread-200"])
            XCTAssertEqual(p.total(metric: 0), 5)
            XCTAssertEqual(p.total(metric: 1), 3)
            // A null stack counts on the thread root.
            let t100 = threadNodes(p).first { nodeName(p, $0) == "Thread-100" }!
            XCTAssertEqual(p.tree.selfWeight[0][Int(t100)], 1)
            // work: two frames (lines 11 and 12), one function named from funcTable.
            let work = p.functionIndex(name: "work", fileSuffix: "app.py")!
            XCTAssertEqual(p.functions.selfWeight[0][work], 3)
            XCTAssertEqual(p.frames.line(ofFunction: Int32(work)), 11)
            let gc = p.functionIndex(name: "<GC>")!
            XCTAssertEqual(p.frames.functionKind[gc], .native)
            XCTAssertEqual(p.functions.selfWeight[0][gc], 1)
            XCTAssertEqual(p.functions.totalWeight[0][p.functionIndex(name: "<module>")!], 4)
            XCTAssertEqual(p.functions.selfWeight[1][p.functionIndex(name: "idle")!], 3)
        }
    }

    func testGeckoRowTablesNestedProcessesAndDuplicateNames() throws {
        // Raw gecko: schema rows (schema after data, short rows), nested processes with their own
        // GeckoMain, per-thread stringTable, a sample weight column.
        let thread = { (pid: Int, leaf: String) in #"""
        {"name": "GeckoMain", "tid": \#(pid + 1), "pid": \#(pid),
         "samples": {"data": [[1, 0.5, 2], [1, 1.5, 1], [0, 2.5, 1]], "schema": {"stack": 0, "time": 1, "weight": 2}},
         "stackTable": {"schema": {"prefix": 0, "frame": 1}, "data": [[null, 0], [0, 1]]},
         "frameTable": {"schema": {"location": 0, "implementation": 1, "optimizations": 2, "line": 3, "category": 4},
                        "data": [[0], [1, null, {"x": [1]}, 9, 16]]},
         "stringTable": ["(root)", "\#(leaf) (file:///a.js:5:2)"]}
        """# }
        let text = #"""
        {"meta": {"version": 12, "interval": 1, "startTime": 5, "stackwalk": 0, "processType": 0},
         "threads": [\#(thread(1, "top"))],
         "processes": [{"meta": {"version": 12, "interval": 1, "startTime": 5}, "threads": [\#(thread(2, "child"))], "processes": []}],
         "libs": []}
        """#
        let p = try loadText(text)
        XCTAssertEqual(p.format, "gecko")
        XCTAssertEqual(metadata(p, "gecko version"), "12")
        XCTAssertEqual(threadNodes(p).map { nodeName(p, $0) }, ["GeckoMain", "GeckoMain (pid 2, tid 3)"])
        XCTAssertEqual(p.total(metric: 0), 8)
        XCTAssertEqual(p.sampleCount, 6)
        XCTAssertEqual(selfOf(p, "top"), 3)
        XCTAssertEqual(selfOf(p, "child"), 3)
        XCTAssertEqual(p.frames.line(ofFunction: Int32(p.functionIndex(name: "top")!)), 5)
        XCTAssertEqual(p.frames.file(ofFunction: Int32(p.functionIndex(name: "top")!)), "file:///a.js")
        // The devtools wrapper: {"profile": {...}, "systemHost": {"name": "Firefox"}}.
        let wrapped = try loadText(#"{"label": "x", "markers": [], "frames": [], "profile": "# + text + #", "systemHost": {"name": "Firefox"}, "fileType": "Recorded Performance Data"}"#)
        XCTAssertEqual(wrapped.format, "gecko")
        XCTAssertEqual(wrapped.total(metric: 0), 8)
        XCTAssertEqual(metadata(wrapped, "file type"), "Recorded Performance Data")
        // A bytes-weighted processed thread, schema given as an array of names.
        let bytes = #"{"meta": {"preprocessedProfileVersion": 40}, "threads": [{"name": "alloc", "stringArray": ["malloc"], "samples": {"schema": ["stack", "weight"], "data": [[0, 64], [0, 32]], "weightType": "bytes"}, "stackTable": {"frame": [0], "prefix": [null]}, "frameTable": {"func": [0]}, "funcTable": {"name": [0], "fileName": [null], "isJS": [false]}}]}"#
        let b = try loadText(bytes)
        XCTAssertEqual(b.metrics, [ValueType("memory", "bytes")])
        XCTAssertEqual(b.total(metric: 0), 96)
    }

    func testGeckoBadInputIsLocatedError() throws {
        func thread(_ stack: String, _ samples: String, frames: String = #"{"func": [0]}"#,
                    funcs: String = #"{"name": [0]}"#, strings: String = #"["f"]"#) -> String {
            #"{"meta": {"preprocessedProfileVersion": 57}, "threads": [{"name": "t", "samples": \#(samples), "stackTable": \#(stack), "frameTable": \#(frames), "funcTable": \#(funcs), "stringArray": \#(strings)}]}"#
        }
        let cases: [(String, String)] = [
            (thread(#"{"frame": [0, 0], "prefix": [1, 0]}"#, #"{"stack": [0]}"#), "cycle"),
            (thread(#"{"frame": [0], "prefix": [5]}"#, #"{"stack": [0]}"#), "out of range"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [3]}"#), "sample stack"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [-1]}"#), "sample stack"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [0.5]}"#), "sample stack"),
            (thread(#"{"frame": [7], "prefix": [null]}"#, #"{"stack": [0]}"#), "stack frame"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [0]}"#, frames: #"{"func": [4]}"#), "function"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [0]}"#, funcs: #"{"name": [9]}"#), "string index"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [0]}"#, frames: #"{"line": [1]}"#), "neither"),
            (thread(#"{"prefix": [null]}"#, #"{"stack": [0]}"#), "'frame'"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"time": [0]}"#), "'stack'"),
            (thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [0]}"#) + " x", "end of input"),
            (#"{"meta": {"version": 9, "interval": 1, "startTime": 0}, "threads": []}"#, "no threads"),
            (#"{"meta": {"version": 9}, "threads": [{"samples": {"schema": {"stack": 1e9}, "data": []}}]}"#, "schema"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try loadText(text, format: "gecko")) { error in
                let e = error as? ProfileError
                XCTAssertNotNil(e?.offset, "\(text): \(error)")
                XCTAssertTrue(e?.message.contains(fragment) ?? false, "'\(fragment)' in \(error)")
            }
        }
        // Huge weights count 0 with a warning; deep prefix chains are iterative.
        let huge = try loadText(thread(#"{"frame": [0], "prefix": [null]}"#, #"{"stack": [0, 0], "weight": [1e400, 2], "weightType": "samples"}"#))
        XCTAssertEqual(huge.total(metric: 0), 2)
        XCTAssertTrue(huge.warnings.contains { $0.contains("non-finite") }, "\(huge.warnings)")
        let n = 50_000
        let frames = (0..<n).map { _ in "0" }.joined(separator: ",")
        let prefixes = "null," + (0..<(n - 1)).map(String.init).joined(separator: ",")
        let tall = try loadText(thread(#"{"frame": [\#(frames)], "prefix": [\#(prefixes)]}"#, #"{"stack": [\#(n - 1)]}"#))
        XCTAssertEqual(tall.maxDepth, n + 1)
    }

    // MARK: sniffing and robustness

    func testRegistryPicksTheseReadersAndNoOthers() throws {
        let dir = try Fixtures.requireCorpus()
        let all = try Fixtures.expected()
        let mine: [String: String] = ["pyinstrument-json": "pyinstrument", "pyinstrument-session": "pyinstrument",
                                      "pyinstrument-html-data": "pyinstrument", "firefox-gecko": "gecko",
                                      "gecko (tachyon)": "gecko"]
        var checked = 0
        for e in all {
            let path = dir + "/" + e.path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let reader = try ourReader(path)
            if let want = mine[e.format] {
                XCTAssertEqual(reader, want, e.path)
            } else {
                XCTAssertFalse(reader == "pyinstrument" || reader == "gecko", "\(e.path) (\(e.format)) claimed by \(reader ?? "")")
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 200)
        // Other JSON stays unrecognised.
        for e in all where e.format == "json(other)" {
            XCTAssertThrowsError(try load(dir + "/" + e.path)) { XCTAssertTrue("\($0)".contains("unrecognised"), "\($0)") }
        }
        // Hand-written look-alikes are not claimed.
        let others = [
            #"{"meta": {"a": 1}, "data": []}"#,
            #"{"threads": [{"name": "x"}], "other": 1}"#,
            #"{"root_frame": "x", "duration": 1}"#,
            #"{"frame_records": {}, "duration": 1}"#,
            #"{"profile": {"name": "x"}}"#,
            #"{"systemHost": {"name": "Chrome"}}"#,
            #"{"session": {"duration": 1}}"#,
        ]
        for text in others {
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { p in
                XCTAssertNotEqual(GeckoReader.sniff(p, complete: true), .yes, text)
                XCTAssertNotEqual(PyinstrumentReader.sniff(p, complete: true), .yes, text)
            }
        }
        // Tachyon and the hand-written forms are sniffed, gzip too.
        XCTAssertEqual(try loadText(GeckoTestsData.tachyon).format, "gecko")
    }

    /// Cut at many points, every file gives either a profile or a located ProfileError.
    func testTruncatedAndCorruptedFilesNeverCrash() throws {
        let dir = try Fixtures.requireCorpus()
        let files = [
            ("generated/pyinstrument/pyinstrument.json", "pyinstrument"),
            ("generated/pyinstrument/pyinstrument.pyisession", "pyinstrument"),
            ("pyinstrument/html_renderer/demo-data/wikipedia_article_word_count.json", "pyinstrument"),
            ("speedscope/sample/profiles/Firefox/59/simple-firefox.json", "gecko"),
            ("speedscope/sample/profiles/Firefox/63/simple-firefox.json", "gecko"),
        ]
        var inputs: [(String, [UInt8], String)] = []
        for (file, format) in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            var cuts = Set((1..<30).map { bytes.count * $0 / 30 })
            cuts.formUnion([1, 2, bytes.count - 1, bytes.count - 2])
            for cut in cuts.sorted() where cut > 0 && cut < bytes.count {
                inputs.append(("\(file) cut at \(cut)", Array(bytes[0..<cut]), format))
            }
            // Corrupted: a byte flipped to each of a few troublesome values at spread positions.
            for k in 1..<9 {
                for v: UInt8 in [0x22, 0x5D, 0x7D, 0x2D] {
                    var b = bytes
                    b[b.count * k / 9] = v
                    inputs.append(("\(file) byte \(b.count * k / 9) = \(v)", b, format))
                }
            }
        }
        inputs.append(("tachyon", Array(GeckoTestsData.tachyon.utf8), "gecko"))
        var profiles = 0, errors = 0
        for (label, bytes, format) in inputs {
            for fmt in [format, nil] {
                do {
                    let p = try loadBytes(bytes, format: fmt)
                    for m in 0..<p.metrics.count { XCTAssertTrue(p.total(metric: m).isFinite, label) }
                    profiles += 1
                } catch let e as ProfileError {
                    errors += 1
                    if fmt != nil {
                        XCTAssertTrue(e.offset != nil || e.message.contains("no "), "\(label): \(e)")
                    }
                } catch {
                    XCTFail("\(label): not a ProfileError: \(error)")
                }
            }
        }
        XCTAssertGreaterThan(errors, 50)
        XCTAssertGreaterThan(profiles, 10)
    }
}

enum GeckoTestsData {
    static var tachyon: String { PyinstrumentGeckoTests.tachyon }
}

/// Access to the location parser (file-private in the reader) through a real frame table row.
enum FrameResolverProbe {
    static func parse(_ loc: String) -> (String, String?, Int?, FrameKind) {
        let escaped = loc.unicodeScalars.map { c -> String in
            c == "\"" ? "\\\"" : c == "\\" ? "\\\\" : String(c)
        }.joined()
        let text = #"{"meta": {"version": 9, "interval": 1, "startTime": 0}, "threads": [{"name": "t", "samples": {"schema": {"stack": 0}, "data": [[0]]}, "stackTable": {"schema": {"prefix": 0, "frame": 1}, "data": [[null, 0]]}, "frameTable": {"schema": {"location": 0}, "data": [[0]]}, "stringTable": [""# + escaped + #""]}]}"#
        guard let p = try? FormatRegistry.load(source: MemorySource(Array(text.utf8)), name: "<probe>", format: "gecko"),
              let f = (0..<p.frames.frameCount).first(where: { p.frames.frameKind[$0] != .thread }) else {
            return ("<load failed>", nil, nil, .function)
        }
        let fr = p.frames.frame(Int32(f))
        return (fr.name, fr.file, fr.line, fr.kind)
    }
}
