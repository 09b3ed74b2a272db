import Foundation
import XCTest
@testable import ProfileModel

/// speedscope, Chrome .cpuprofile and Trace Event readers against the corpus facts
/// (EXPECTED.json, definitions in SOURCES.md) and against hostile input.
final class ChromeSpeedscopeTests: XCTestCase {

    // MARK: helpers

    func loadText(_ text: String, format: String? = nil, chunk: Int = 1 << 20) throws -> Profile {
        try loadBytes(Array(text.utf8), format: format, chunk: chunk)
    }

    func loadBytes(_ bytes: [UInt8], format: String? = nil, chunk: Int = 1 << 20) throws -> Profile {
        try FormatRegistry.load(source: MemorySource(bytes, chunk: chunk), name: "<test>", format: format)
    }

    /// Children of the root that are thread or process frames.
    func groupingRoots(_ p: Profile) -> [Int32] {
        p.tree.children(0).filter { p.frames.frameKind[Int(p.tree.frame[Int($0)])].isGrouping }
    }

    func threadNodes(_ p: Profile) -> [Int32] {
        (1..<p.tree.count).map(Int32.init).filter { p.frames.frameKind[Int(p.tree.frame[Int($0)])] == .thread }
    }

    func metadata(_ p: Profile, _ key: String) -> String? { p.metadata.first { $0.0 == key }?.1 }

    func close(_ a: Double, _ b: Double, _ msg: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b)), msg, file: file, line: line)
    }

    func sniffedReader(_ path: String) throws -> String? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let prefix = Array(data.prefix(1 << 16))
        return prefix.withUnsafeBytes { p in
            FormatRegistry.readers.first { $0.sniff(p, complete: data.count <= 1 << 16) == .yes }?.name
        }
    }

    // MARK: corpus

    func testSpeedscopeCorpus() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "speedscope" }
        XCTAssertGreaterThanOrEqual(entries.count, 10)
        for e in entries {
            let path = dir + "/" + e.path
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "speedscope", "\(e.path): detected by content")
            // Two shapes of fact: a list of per-profile records, or (memray's export) totals keyed
            // by profile name, checked on their own.
            if let byName = e.facts["profiles"] as? [String: [String: Any]] {
                checkProfileTotals(p, byName, e.path)
                continue
            }
            guard let profiles = e.facts["profiles"] as? [[String: Any]] else {
                XCTFail("\(e.path): unexpected shape of the 'profiles' fact"); continue
            }
            // One thread root per profile, in file order.
            let roots = groupingRoots(p)
            XCTAssertEqual(roots.count, profiles.count, "\(e.path): thread roots")
            XCTAssertEqual(metadata(p, "profiles"), String(profiles.count), e.path)
            XCTAssertEqual(metadata(p, "exporter"), e.facts["exporter"] as? String, e.path)
            // Frames from shared.frames (py-spy's thread pseudo-frames become grouping frames).
            let shared = e.facts["shared_frames"] as! Int
            let functionFrames = (0..<p.frames.frameCount).filter { p.frames.frameKind[$0] == .function }.count
            XCTAssertLessThanOrEqual(functionFrames, shared, e.path)
            var samples = 0
            var anySampled = false
            for (i, prof) in profiles.enumerated() {
                let name = prof["name"] as! String
                guard let node = roots.first(where: { p.frames.name(ofFrame: p.tree.frame[Int($0)]).hasPrefix(name) }) else {
                    XCTFail("\(e.path): no thread root for profile \(i) '\(name)'"); continue
                }
                let unit = prof["unit"] as! String
                let metric = p.metrics.firstIndex { $0.unit == (unit == "none" ? "count" : unit) }
                XCTAssertNotNil(metric, "\(e.path): metric for unit \(unit) in \(p.metrics)")
                guard let m = metric else { continue }
                if prof["type"] as! String == "sampled" {
                    anySampled = true
                    samples += prof["samples"] as! Int
                    let expected = (prof["total_weight"] as! NSNumber).doubleValue
                    // Profiles with one name share a root only when the reader numbers them apart.
                    let sameName = roots.filter { p.frames.name(ofFrame: p.tree.frame[Int($0)]) == name }
                    if sameName.count == 1 || profiles.filter({ $0["name"] as! String == name }).count == 1 {
                        close(p.tree.totalWeight[m][Int(node)], expected, "\(e.path): weight of profile \(i)")
                    }
                } else {
                    // Evented: all time between the first open and the last close (or the end
                    // value for frames left open) is inside some frame.
                    let total = p.tree.totalWeight[m][Int(node)]
                    let span = (prof["end"] as! NSNumber).doubleValue - (prof["start"] as! NSNumber).doubleValue
                    XCTAssertGreaterThan(total, 0, e.path)
                    XCTAssertLessThanOrEqual(total, span + 1e-9, e.path)
                }
            }
            if anySampled { XCTAssertEqual(p.sampleCount, samples, "\(e.path): samples") } else { XCTAssertNil(p.sampleCount) }
        }
    }

    /// memray's export: profiles of one recording in different units over the same stacks,
    /// read as one tree with a metric named after each profile (no thread roots).
    func checkProfileTotals(_ p: Profile, _ byName: [String: [String: Any]], _ path: String) {
        XCTAssertEqual(groupingRoots(p).count, 0, "\(path): one tree, no thread roots")
        XCTAssertEqual(p.metrics.count, byName.count, path)
        var withSelf = 0
        for n in 0..<p.tree.count where (0..<p.metrics.count).contains(where: { p.tree.selfWeight[$0][n] != 0 }) { withSelf += 1 }
        for (name, facts) in byName {
            guard let unit = facts["unit"] as? String, let total = (facts["total"] as? NSNumber)?.doubleValue else {
                XCTFail("\(path): profile '\(name)' has no unit or total fact"); continue
            }
            guard let m = p.metricIndex(named: name.lowercased()) else {
                XCTFail("\(path): no metric '\(name.lowercased())' in \(p.metrics)"); continue
            }
            XCTAssertEqual(p.metrics[m].unit, unit == "none" ? "count" : unit, path)
            close(p.total(metric: m), total, "\(path): total of profile '\(name)'")
            // Each stack once: as many stacks as the profile has samples, not twice as many.
            XCTAssertEqual(p.sampleCount, facts["stacks"] as? Int, path)
            XCTAssertLessThanOrEqual(withSelf, facts["stacks"] as! Int, path)
        }
    }

    func testSpeedscopeKnownTrees() throws {
        let dir = try Fixtures.requireCorpus()
        // simple.speedscope.json: a;b;c 5, a;b;d 4, a;b 5 (speedscope's own snapshot).
        let p = try load(dir + "/speedscope/sample/profiles/speedscope/0.0.1/simple.speedscope.json").mergingThreads()
        XCTAssertEqual(p.total(metric: 0), 14)
        let selfBy = Dictionary(uniqueKeysWithValues: p.selfByFrame(metric: 0).map { (p.frames.name(ofFrame: $0.key), $0.value) })
        XCTAssertEqual(selfBy, ["b": 5, "c": 5, "d": 4])
        // py-spy: thread pseudo-frames are grouping frames, merged away; top self is leaf_cpu.
        let py = try load(dir + "/generated/py-spy/pyspy.speedscope.json")
        XCTAssertEqual(threadNodes(py).count, 4)   // the profile roots and py-spy's own thread frames
        let merged = py.mergingThreads()
        let top = merged.selfByFrame(metric: merged.defaultMetric).max { $0.value < $1.value }!
        XCTAssertEqual(merged.frames.name(ofFrame: top.key), "leaf_cpu")
        XCTAssertEqual(merged.frames.file(ofFrame: top.key), "/srv/app/sampled.py")
        XCTAssertEqual(py.metrics[py.defaultMetric], ValueType("time", "seconds"))
        close(py.total(metric: py.defaultMetric), 0.715 + 0.68, "pyspy total")
        // incomplete-trace: the open frame runs to endValue (100), with a warning.
        let inc = try load(dir + "/speedscope/sample/profiles/speedscope/invalid/incomplete-trace.json")
        XCTAssertEqual(inc.total(metric: 0), 100)
        XCTAssertTrue(inc.warnings.contains { $0.contains("still open") })
        let ooo = try load(dir + "/speedscope/sample/profiles/speedscope/invalid/out-of-order-events.json")
        XCTAssertTrue(ooo.warnings.contains { $0.contains("did not match") })
        // bytes unit
        let bytes = try load(dir + "/pyroscope/pkg/og/convert/speedscope/testdata/two-sampled-bytes.speedscope.json")
        XCTAssertEqual(bytes.metrics, [ValueType("memory", "bytes")])
    }

    /// Profiles named like py-spy's own `thread (TID): NAME` frames: the thread root and the
    /// frame below it are one frame id, at two levels, which merges no siblings; equal shared
    /// frames do, and still become one node.
    func testSpeedscopeThreadRootNamedLikeItsThreadFrame() throws {
        let text = """
            {"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[
            {"type":"sampled","name":"thread (1): A","unit":"none","startValue":0,"endValue":3,
             "samples":[[0,2],[0,3],[0,2]],"weights":[1,2,4]},
            {"type":"sampled","name":"thread (2): B","unit":"none","startValue":0,"endValue":1,
             "samples":[[1,2]],"weights":[8]}],
            "shared":{"frames":[{"name":"thread (1): A","file":""},{"name":"thread (2): B","file":""},
             {"name":"work","file":"a.py","line":3},{"name":"work","file":"a.py","line":3}]}}
            """
        let p = try loadText(text)
        XCTAssertEqual(p.total(metric: 0), 15)
        // Children come heaviest first: B (8), then A (7).
        let roots = Array(p.tree.children(0))
        XCTAssertEqual(roots.map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }, ["thread (2): B", "thread (1): A"])
        for (root, weight) in zip(roots, [8.0, 7.0]) {
            let below = Array(p.tree.children(root))
            XCTAssertEqual(below.map { p.tree.frame[Int($0)] }, [p.tree.frame[Int(root)]])
            // Shared frames 2 and 3 are one frame: one `work` node under each thread.
            let work = Array(p.tree.children(below[0]))
            XCTAssertEqual(work.map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }, ["work"])
            XCTAssertEqual(p.tree.selfWeight[0][Int(work[0])], weight)
        }
        // Without the duplicate shared frame (no replay at all), the same tree.
        let q = try loadText(text.replacingOccurrences(of: "[0,3]", with: "[0,2]")
            .replacingOccurrences(of: ",{\"name\":\"work\",\"file\":\"a.py\",\"line\":3}]}}", with: "]}}"))
        XCTAssertEqual(q.tree.count, p.tree.count)
        XCTAssertEqual(q.tree.parent, p.tree.parent)
        XCTAssertEqual(q.tree.selfWeight[0], p.tree.selfWeight[0])
    }

    func testChromeCPUProfileCorpus() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format.hasPrefix("chrome-cpuprofile") }
        XCTAssertEqual(entries.count, 3)
        for e in entries {
            let path = dir + "/" + e.path
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            XCTAssertEqual(p.format, "cpuprofile", "\(e.path): detected by content")
            let samples = e.facts["samples"] as! Int
            XCTAssertEqual(p.sampleCount, samples, e.path)
            XCTAssertEqual(p.metrics, [ValueType("samples", "count"), ValueType("time", "microseconds")])
            XCTAssertEqual(p.total(metric: 0), Double(samples), e.path)
            let json = try Fixtures.json(path) as! [String: Any]
            if let deltas = json["timeDeltas"] as? [Double], let start = json["startTime"] as? Double,
               let end = json["endTime"] as? Double {
                // Each sample lasts until the next; the last until endTime: first sample → endTime.
                XCTAssertEqual(deltas.reduce(0, +), (e.facts["sum_timeDeltas_us"] as! NSNumber).doubleValue)
                close(p.total(metric: 1), end - (start + deltas[0]), "\(e.path): time total")
            } else if let ts = json["timestamps"] as? [Double] {
                close(p.total(metric: 1), ts[samples] - ts[0], "\(e.path): time total (old form)")
            }
            if let top = e.facts["top_self_by_samples"] as? String, let open = top.range(of: " (", options: .backwards) {
                let name = String(top[..<open.lowerBound])
                let value = Double(top[open.upperBound...].dropLast())!
                var byName: [String: Double] = [:]
                for (f, w) in p.selfByFrame(metric: 0) { byName[p.frames.name(ofFrame: f), default: 0] += w }
                let best = byName.max { $0.value < $1.value }!
                XCTAssertEqual(best.key, name, e.path)
                XCTAssertEqual(best.value, value, e.path)
            }
        }
        // The old head/timestamps form: the tree is a → b → d and a → c → d under "(anonymous)".
        let old = try load(dir + "/speedscope/sample/profiles/node/10.11.0/example.cpuprofile")
        XCTAssertEqual(metadata(old, "format"), "old (head/timestamps)")
        let d = old.functions.count
        XCTAssertEqual(d, 5)   // (anonymous), a, b, c, d
    }

    func testTraceEventCorpus() throws {
        let dir = try Fixtures.requireCorpus()
        let entries = try Fixtures.expected().filter { $0.format == "trace-event" }
        XCTAssertGreaterThan(entries.count, 40)
        var loaded = 0
        for e in entries {
            let path = dir + "/" + e.path
            let byPh = e.facts["by_ph"] as? [String: Int] ?? [:]
            if Array(byPh.keys) == ["null"] {
                // flamelens' expected_stacks.json: JSON arrays of tree nodes with no `ph` at all.
                // The reference classes any JSON array as trace events; they hold no event, and
                // no reader claims them.
                XCTAssertNil(try sniffedReader(path), e.path)
                XCTAssertThrowsError(try load(path), e.path)
                continue
            }
            let p: Profile
            do { p = try load(path) } catch { XCTFail("\(e.path): \(error)"); continue }
            loaded += 1
            XCTAssertEqual(p.format, "trace-event", "\(e.path): detected by content")
            XCTAssertEqual(p.metrics[p.defaultMetric], ValueType("time", "microseconds"), e.path)
            // Event counts: every event is counted once, by phase.
            XCTAssertEqual(metadata(p, "events"), String(e.facts["events"] as! Int), e.path)
            let phases = metadata(p, "phases") ?? ""
            for (ph, n) in byPh { XCTAssertTrue(phases.contains("\(ph)=\(n)"), "\(e.path): \(ph)=\(n) in \(phases)") }
            // One thread root per (pid, tid) that has events; never more than the file's pairs.
            let threads = threadNodes(p).count
            XCTAssertGreaterThan(threads, 0, e.path)
            XCTAssertLessThanOrEqual(threads, e.facts["pid_tid_pairs"] as! Int, e.path)
            XCTAssertGreaterThan(p.total(metric: p.defaultMetric), 0, e.path)
            if let n = e.facts["samples"] as? Int { XCTAssertEqual(p.sampleCount, n, e.path) }
            if e.facts["profile_events"] != nil { XCTAssertNotNil(p.sampleCount, "\(e.path): embedded CPU profile") }
        }
        XCTAssertGreaterThanOrEqual(loaded, 40)
    }

    func testTraceEventKnownTrees() throws {
        let dir = try Fixtures.requireCorpus() + "/speedscope/sample/profiles/trace-event/"
        // simple.json: alpha 0–14 ⊃ beta 1–13 ⊃ gamma 2–7, epsilon 7–11 (tdur only → dur 0 → zero length).
        let p = try load(dir + "simple.json").mergingThreads()
        XCTAssertEqual(p.total(metric: 0), 14)
        let selfBy = Dictionary(uniqueKeysWithValues: p.selfByFrame(metric: 0).map { (p.frames.name(ofFrame: $0.key), $0.value) })
        XCTAssertEqual(selfBy["alpha"], 2)
        XCTAssertEqual(selfBy["gamma"], 5)
        // The partial (cut) forms give the same tree, with a warning.
        for cut in ["simple-partial.json", "simple-partial-trailing-comma.json", "simple-partial-whitespace.json"] {
            let q = try load(dir + cut)
            XCTAssertEqual(q.format, "trace-event", cut)
            XCTAssertEqual(q.total(metric: 0), 14, cut)
            XCTAssertTrue(q.warnings.contains { $0.contains("cut") }, cut)
        }
        // Thread roots: "process 0" → "thread 0"; multiprocess.json names them from M events.
        let mp = try load(dir + "multiprocess.json")
        let names = threadNodes(mp).map { mp.frames.name(ofFrame: mp.tree.frame[Int($0)]) }
        XCTAssertTrue(names.allSatisfy { $0.hasPrefix("thread ") }, "\(names)")
        XCTAssertTrue(names.contains { $0.contains("(") }, "thread names from metadata: \(names)")
        XCTAssertTrue(groupingRoots(mp).allSatisfy { mp.frames.frameKind[Int(mp.tree.frame[Int($0)])] == .process })
        // Unbalanced: ignored ends and auto-closed begins are reported.
        let many = try load(dir + "too-many-end-events.json")
        XCTAssertEqual(many.total(metric: 0), 14)
        XCTAssertTrue(many.warnings.contains { $0.contains("no matching begin") })
        let only = try load(dir + "only-begin-events.json")
        XCTAssertTrue(only.warnings.contains { $0.contains("still open") })
        // Zero-length B/E pairs do not swallow what follows.
        let zero = try load(dir + "zero-duration-events.json").mergingThreads()
        XCTAssertEqual(zero.total(metric: 0), 10)
        // viztracer: `func (file:line)` names become name + file + line; children precede parents.
        let corpus = try Fixtures.requireCorpus()
        let viz = try load(corpus + "/viztracer/tests/data/fib.json").mergingThreads()
        let names2 = (0..<viz.frames.frameCount).map { viz.frames.frame(Int32($0)) }
        XCTAssertTrue(names2.contains { $0.name == "<module>" && ($0.file ?? "").hasSuffix("fib.py") && $0.line == 1 }, "\(names2)")
        XCTAssertEqual(viz.tree.path(to: Int32(viz.tree.count - 1)).count, 2, "builtins.exec ⊃ <module>")
        // py-spy chrometrace: args.filename / args.line; two threads.
        let ct = try load(corpus + "/generated/py-spy/pyspy.chrometrace.json")
        XCTAssertEqual(threadNodes(ct).count, 2)
        XCTAssertTrue((0..<ct.frames.frameCount).contains { ct.frames.file(ofFrame: Int32($0)) == "/srv/app/sampled.py" })
    }

    /// pid and tid are often left out of hand-written and tool-written traces. Such events are
    /// one thread of their own, apart from the (1, 1) events between them; each thread's
    /// time is its events' durations worked out by hand.
    func testEventsWithoutPidOrTid() throws {
        let text = #"[{"ph":"B","ts":1,"name":"a"},{"ph":"E","ts":5},"# +
            #"{"ph":"X","ts":10,"dur":3,"name":"b","pid":1,"tid":1},"# +
            #"{"ph":"X","ts":20,"dur":2,"name":"c"}]"#
        for chunk in [1 << 20, 7] {
            let p = try loadText(text, chunk: chunk)
            XCTAssertEqual(p.total(metric: 0), 9, "chunk \(chunk)")
            XCTAssertEqual(threadNodes(p).count, 2, "chunk \(chunk)")
            let selfBy = Dictionary(uniqueKeysWithValues: p.selfByFrame(metric: 0).map { (p.frames.name(ofFrame: $0.key), $0.value) })
            XCTAssertEqual(selfBy["a"], 4)
            XCTAssertEqual(selfBy["b"], 3)
            XCTAssertEqual(selfBy["c"], 2)
        }
    }

    /// Events written compactly are read by bytes, any other spelling key by key: both give the
    /// tree worked out by hand (self time = duration less the children's), cut or not.
    func testTraceEventCompactAndSpacedEventsAgree() throws {
        // a 0–10 ⊃ (b 1–6 ⊃ c 2–4), (d 6–9); then e (B/E) 10–12 and f 12–13 on thread 2.
        let events: [(ph: String, name: String, tid: Int, ts: Double, dur: Double?)] = [
            ("X", "a", 1, 0, 10), ("X", "b", 1, 1, 5), ("X", "c", 1, 2, 2), ("X", "d", 1, 6, 3),
            ("B", "e", 1, 10, nil), ("E", "e", 1, 12, nil), ("X", "f", 2, 12, 1),
        ]
        func compact(_ e: (ph: String, name: String, tid: Int, ts: Double, dur: Double?)) -> String {
            "{\"ph\":\"\(e.ph)\",\"name\":\"\(e.name)\",\"pid\":1,\"tid\":\(e.tid),\"ts\":\(e.ts)"
                + (e.dur.map { ",\"dur\":\($0)" } ?? "") + "}"
        }
        func spaced(_ e: (ph: String, name: String, tid: Int, ts: Double, dur: Double?)) -> String {
            "{ \"ts\": \(e.ts), \"ph\": \"\(e.ph)\", \"name\": \"\\u00\(String(e.name.utf8.first!, radix: 16))\", "
                + "\"tid\": \(e.tid), \"pid\": 1" + (e.dur.map { ", \"dur\": \($0)" } ?? "") + " }"
        }
        // Integer times take the byte path's own conversion, decimals `readNumber`.
        func integers(_ e: (ph: String, name: String, tid: Int, ts: Double, dur: Double?)) -> String {
            "{\"ph\":\"\(e.ph)\",\"name\":\"\(e.name)\",\"pid\":-1,\"tid\":\(e.tid),\"ts\":\(Int(e.ts) + 1_000_000_000_000)"
                + (e.dur.map { ",\"dur\":\(Int($0))" } ?? "") + "}"
        }
        let want: [String: Double] = ["a": 2, "b": 3, "c": 2, "d": 3, "e": 2, "f": 1]
        for (form, text) in [("compact", events.map(compact)), ("integers", events.map(integers)),
                             ("spaced", events.map(spaced))] {
            for cut in [false, true] {
                let json = "[" + text.joined(separator: ",") + (cut ? "" : "]")
                let p = try loadText(json)
                let selfBy = Dictionary(p.selfByFrame(metric: 0).map { (p.frames.name(ofFrame: $0.key), $0.value) },
                                        uniquingKeysWith: +)
                XCTAssertEqual(selfBy.filter { $0.value != 0 }, want, "\(form), cut: \(cut)")
                XCTAssertEqual(p.total(metric: 0), 13, "\(form), cut: \(cut)")
                XCTAssertEqual(threadNodes(p).count, 2, "\(form), cut: \(cut)")
                XCTAssertEqual(p.warnings.contains { $0.contains("cut") }, cut, "\(form): \(p.warnings)")
            }
        }
    }

    /// `.cpuprofile` nodes written compactly are read by bytes, any other spelling key by key:
    /// both give the tree worked out by hand, and a node of either kind can follow the other.
    func testCPUProfileCompactAndSpacedNodesAgree() throws {
        // (root) ⊃ a ⊃ (b, c ⊃ d); samples b, c, d, d, a every 10 µs, the last until endTime 50.
        let nodes: [(id: Int, name: String, url: String, line: Int, children: [Int])] = [
            (1, "(root)", "", -1, [2]), (2, "a", "app.py", 4, [3, 4]), (3, "b", "", 0, []),
            (4, "c", "lib.py", 9, [5]), (5, "d", "lib.py", 20, []),
        ]
        func compact(_ n: (id: Int, name: String, url: String, line: Int, children: [Int])) -> String {
            "{\"id\":\(n.id),\"callFrame\":{\"functionName\":\"\(n.name)\",\"scriptId\":\"7\",\"url\":\"\(n.url)\","
                + "\"lineNumber\":\(n.line),\"columnNumber\":-1},\"hitCount\":0"
                + (n.children.isEmpty ? "" : ",\"children\":[\(n.children.map(String.init).joined(separator: ","))]") + "}"
        }
        func spaced(_ n: (id: Int, name: String, url: String, line: Int, children: [Int])) -> String {
            "{ \"children\": [\(n.children.map(String.init).joined(separator: ", "))], \"callFrame\": { \"url\": \"\(n.url)\", "
                + "\"functionName\": \"\\u00\(String(n.name.utf8.first!, radix: 16))\(n.name.dropFirst())\", \"lineNumber\": \(n.line) }, "
                + "\"id\": \(n.id) }"
        }
        let tail = "],\"startTime\":0,\"endTime\":50,\"samples\":[3,4,5,5,2],\"timeDeltas\":[0,10,10,10,10]}"
        let forms: [(String, [String])] = [
            ("compact", nodes.map(compact)), ("spaced", nodes.map(spaced)),
            ("mixed", nodes.enumerated().map { $0.offset % 2 == 0 ? compact($0.element) : spaced($0.element) }),
        ]
        for (form, text) in forms {
            let p = try loadText("{\"nodes\":[" + text.joined(separator: ",") + tail)
            XCTAssertEqual(p.format, "cpuprofile", form)
            let selfBy = Dictionary(p.selfByFrame(metric: 1).map { (p.frames.name(ofFrame: $0.key), $0.value) },
                                    uniquingKeysWith: +)
            XCTAssertEqual(selfBy.filter { $0.value != 0 }, ["a": 10, "b": 10, "c": 10, "d": 20], form)
            XCTAssertEqual(p.total(metric: 0), 5, form)
            // b and c are children of a, d of c; (root) is the profile root.
            let a = p.tree.children(0)
            XCTAssertEqual(a.map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }, ["a"], form)
            let under = p.tree.children(a[0]).map { p.frames.name(ofFrame: p.tree.frame[Int($0)]) }
            XCTAssertEqual(Set(under), ["b", "c"], form)
            let d = (0..<p.frames.frameCount).map(Int32.init).first { p.frames.name(ofFrame: $0) == "d" }!
            XCTAssertEqual(p.frames.file(ofFrame: d), "lib.py", form)
            XCTAssertEqual(p.frames.line(ofFrame: d), 21, "\(form): lineNumber is 0-based")
        }
    }

    func testSniffingDoesNotClaimOtherJSON() throws {
        let dir = try Fixtures.requireCorpus()
        let mine: Set<String> = ["speedscope", "cpuprofile", "trace-event"]
        let entries = try Fixtures.expected().filter {
            $0.format.hasPrefix("pyinstrument") || $0.format == "firefox-gecko" || $0.format == "json(other)"
        }
        XCTAssertGreaterThan(entries.count, 5)
        for e in entries {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + e.path))
            let prefix = Array(data.prefix(1 << 16))
            prefix.withUnsafeBytes { p in
                for r in FormatRegistry.readers where mine.contains(r.name) {
                    XCTAssertNotEqual(r.sniff(p, complete: data.count <= 1 << 16), .yes, "\(r.name) claims \(e.path)")
                }
            }
        }
        // And each of these formats is claimed by its own reader only.
        for e in try Fixtures.expected() where ["speedscope", "trace-event", "chrome-cpuprofile", "json(invalid/partial)"].contains(e.format)
            || e.format.hasPrefix("chrome-cpuprofile") {
            let byPh = e.facts["by_ph"] as? [String: Int] ?? [:]
            if Array(byPh.keys) == ["null"] { continue }
            let expected = e.format == "speedscope" ? "speedscope" : e.format.hasPrefix("chrome-cpuprofile") ? "cpuprofile" : "trace-event"
            XCTAssertEqual(try sniffedReader(dir + "/" + e.path), expected, e.path)
        }
    }

    // MARK: edge cases

    func testNullActiveProfileIndexAndSharedAfterProfiles() throws {
        let text = #"""
        {"profiles": [{"type": "sampled", "name": "T", "unit": "milliseconds", "startValue": 0, "endValue": 3,
          "samples": [[0, 1], [0, 1], [0]], "weights": [1, 1.5, 0.5]}],
         "shared": {"frames": [{"name": "main", "file": "m.py", "line": 3}, {"name": "work", "file": "m.py", "line": null}]},
         "activeProfileIndex": null, "exporter": "test", "$schema": "https://www.speedscope.app/file-format-schema.json"}
        """#
        for chunk in [1, 7, 1 << 20] {
            let p = try loadText(text, chunk: chunk)
            XCTAssertEqual(p.format, "speedscope")
            XCTAssertEqual(p.metrics, [ValueType("time", "milliseconds")])
            XCTAssertEqual(p.total(metric: 0), 3)
            XCTAssertEqual(p.sampleCount, 3)
            XCTAssertNil(metadata(p, "active profile"))
            let work = p.functionIndex(name: "work")!
            XCTAssertEqual(p.functions.selfWeight[0][work], 2.5)
            XCTAssertEqual(p.frames.line(ofFunction: Int32(p.functionIndex(name: "main")!)), 3)
        }
        // No $schema: still speedscope by its keys.
        let bare = #"{"shared": {"frames": [{"name": "a"}]}, "profiles": [{"type": "evented", "name": "e", "unit": "seconds", "startValue": 0, "endValue": 2, "events": [{"type": "O", "frame": 0, "at": 0}, {"type": "C", "frame": 0, "at": 2}]}]}"#
        XCTAssertEqual(try loadText(bare).total(metric: 0), 2)
        // Mixed time units convert to the first one.
        let mixed = #"{"$schema": "https://www.speedscope.app/file-format-schema.json", "shared": {"frames": [{"name": "a"}]}, "profiles": [{"type": "sampled", "name": "s", "unit": "seconds", "samples": [[0]], "weights": [1]}, {"type": "sampled", "name": "ms", "unit": "milliseconds", "samples": [[0]], "weights": [500]}]}"#
        let m = try loadText(mixed)
        XCTAssertEqual(m.metrics, [ValueType("time", "seconds")])
        XCTAssertEqual(m.total(metric: 0), 1.5)
    }

    func testBadSpeedscopeInputIsLocatedError() throws {
        let head = #"{"$schema": "https://www.speedscope.app/file-format-schema.json", "shared": {"frames": [{"name": "a"}]}, "profiles": [{"type": "sampled", "name": "p", "unit": "none", "#
        let cases: [(String, String)] = [
            (head + #""samples": [[0, 5]], "weights": [1]}]}"#, "out of range"),
            (head + #""samples": [[99999999999999999999]], "weights": [1]}]}"#, "too large"),
            (head + #""samples": [[-1]], "weights": [1]}]}"#, "bad frame index"),
            (head + #""samples": [[1e300]], "weights": [1]}]}"#, "bad frame index"),
            (head + #""samples": [[0], [0]], "weights": [1]}]}"#, "weights"),
            (head + #""samples": [[0 0]], "weights": [1]}]}"#, "expected"),
            (head + #""samples": [[0]], "weights": [1]}]} trailing"#, "end of input"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try loadText(text)) { error in
                let e = error as? ProfileError
                XCTAssertNotNil(e?.offset, "\(text): \(error)")
                XCTAssertTrue(e?.message.contains(fragment) ?? false, "\(fragment) in \(error)")
            }
        }
        // Huge weights do not poison totals: they count 0, with a warning.
        let huge = try loadText(head + #""samples": [[0], [0]], "weights": [1e400, 2]}]}"#)
        XCTAssertEqual(huge.total(metric: 0), 2)
        XCTAssertTrue(huge.warnings.contains { $0.contains("non-finite") })
        // Control characters stay in names (escaping is the display's job).
        let ctl = try loadText(#"{"$schema": "https://www.speedscope.app/file-format-schema.json", "shared": {"frames": [{"name": "a\u0001b\u001b[31m\tc", "file": "x\ny.py"}]}, "profiles": [{"type": "sampled", "name": "p", "unit": "none", "samples": [[0]], "weights": [1]}]}"#)
        XCTAssertTrue((0..<ctl.frames.frameCount).contains { ctl.frames.name(ofFrame: Int32($0)) == "a\u{01}b\u{1B}[31m\tc" })
        XCTAssertTrue((0..<ctl.frames.frameCount).contains { ctl.frames.file(ofFrame: Int32($0)) == "x\ny.py" })
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        let inputs = [
            #"{"$schema": "https://www.speedscope.app/file-format-schema.json", "shared": "# + deep,
            #"{"$schema": "https://www.speedscope.app/file-format-schema.json", "profiles": [{"x": "# + deep,
            #"[{"ph": "X", "name": "a", "ts": 0, "dur": 1, "pid": 1, "tid": 1, "args": "# + deep,
            #"{"nodes": [{"id": 1, "callFrame": "# + deep,
            #"{"head": {"functionName": "a", "id": 1, "children": ["# + String(repeating: #"{"functionName": "a", "id": 2, "children": ["#, count: 50_000),
        ]
        for (i, text) in inputs.enumerated() {
            XCTAssertThrowsError(try loadText(text), "input \(i)") { error in
                XCTAssertNotNil((error as? ProfileError)?.offset, "input \(i): \(error)")
            }
        }
        // Deep but legal stacks are fine: a 100 000-frame sample.
        let frames = (0..<100_000).map { _ in "0" }.joined(separator: ",")
        let tall = #"{"$schema": "https://www.speedscope.app/file-format-schema.json", "shared": {"frames": [{"name": "r"}]}, "profiles": [{"type": "sampled", "name": "p", "unit": "none", "samples": [["# + frames + #"]], "weights": [1]}]}"#
        XCTAssertEqual(try loadText(tall).maxDepth, 100_001)
    }

    func testHugeClaimedNumbers() throws {
        // cpuprofile with absurd ids, counts and times: no trap, no giant allocation.
        let cpu = #"{"nodes": [{"id": 1e300, "callFrame": {"functionName": "(root)"}}, {"id": 2, "callFrame": {"functionName": "f", "url": "u", "lineNumber": 99999999999}, "hitCount": 1e308}], "samples": [2, 2], "timeDeltas": [1e308, 1e308], "startTime": -1e308, "endTime": 1e308}"#
        XCTAssertThrowsError(try loadText(cpu)) { XCTAssertNotNil(($0 as? ProfileError)?.offset, "\($0)") }
        let cpu2 = #"{"nodes": [{"id": 1, "callFrame": {"functionName": "(root)"}, "children": [2]}, {"id": 2, "callFrame": {"functionName": "f", "url": "u", "lineNumber": 99999999999}, "hitCount": 1e308}], "samples": [2, 2, 7], "timeDeltas": [1e308, 1e308, 5], "startTime": 0, "endTime": 1}"#
        let p = try loadText(cpu2)
        XCTAssertEqual(p.format, "cpuprofile")
        XCTAssertEqual(p.sampleCount, 2)
        XCTAssertTrue(p.warnings.contains { $0.contains("unknown node") })
        // Trace events with huge times and durations.
        let trace = #"[{"ph": "X", "name": "a", "ts": 1e300, "dur": 1e308, "pid": 99999999999999999999, "tid": "x"}, {"ph": "B", "name": "b", "ts": -1e300, "pid": 1, "tid": 1}, {"ph": "E", "ts": 1e999, "pid": 1, "tid": 1}, {"ph": "X", "name": "ok", "ts": 5, "dur": 2, "pid": 1, "tid": 1}]"#
        let t = try loadText(trace)
        XCTAssertEqual(t.format, "trace-event")
        XCTAssertEqual(t.total(metric: 0), 2)
        XCTAssertTrue(t.warnings.contains { $0.contains("usable 'ts'") }, "\(t.warnings)")
        // Only absurd events: an explained error, not a crash or an infinite total.
        XCTAssertThrowsError(try loadText(#"[{"ph": "X", "name": "a", "ts": 1e300, "dur": 1e308, "pid": 1, "tid": 1}]"#)) {
            XCTAssertTrue(($0 as? ProfileError)?.message.contains("no B/E/X") ?? false, "\($0)")
        }
        // A cycle in cpuprofile parents is an error with an offset.
        let cycle = #"{"nodes": [{"id": 1, "callFrame": {"functionName": "a"}, "parent": 2}, {"id": 2, "callFrame": {"functionName": "b"}, "parent": 1}], "samples": [1], "timeDeltas": [1]}"#
        XCTAssertThrowsError(try loadText(cycle)) { XCTAssertNotNil(($0 as? ProfileError)?.offset, "\($0)") }
    }

    /// Cut at many points, every file gives either a profile or a located ProfileError.
    func testTruncatedFilesNeverCrash() throws {
        let dir = try Fixtures.requireCorpus()
        let files = [
            ("generated/py-spy/pyspy.speedscope.json", "speedscope"),
            ("generated/pyinstrument/pyinstrument.speedscope.json", "speedscope"),
            ("speedscope/sample/profiles/Chrome/65/simple.cpuprofile", "cpuprofile"),
            ("speedscope/sample/profiles/node/10.11.0/example.cpuprofile", "cpuprofile"),
            ("speedscope/sample/profiles/trace-event/simple.json", "trace-event"),
            ("viztracer/tests/data/fib.json", "trace-event"),
            ("speedscope/sample/profiles/trace-event/simple-with-samples.json", "trace-event"),
            ("speedscope/sample/profiles/Chrome/141/no-arg-data.json", "trace-event"),
        ]
        var profiles = 0, errors = 0
        for (file, format) in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            var cuts = Set((1..<40).map { bytes.count * $0 / 40 })
            cuts.formUnion([1, 2, bytes.count - 1, bytes.count - 2])
            for cut in cuts.sorted() where cut > 0 && cut < bytes.count {
                let part = Array(bytes[0..<cut])
                for fmt in [format, nil] {
                    do {
                        _ = try loadBytes(part, format: fmt)
                        profiles += 1
                    } catch let e as ProfileError {
                        errors += 1
                        if fmt != nil {
                            XCTAssertTrue(e.offset != nil || e.line != nil || e.message.contains("no "),
                                          "\(file) cut at \(cut): \(e)")
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(errors, 0)
        XCTAssertGreaterThan(profiles, 0)   // cut trace events still load
    }
}

/// Evented speedscope: the reader gives a run of opened frames their nodes only at the next
/// close, so time that falls inside a run (the innermost frame so far, before the deeper ones
/// open) waits until then. Checked against self time per stack worked out here from the raw
/// events by the spec's rule (time between two events goes to the innermost open frame).
final class SpeedscopeEventedTimingTests: XCTestCase {
    func testTimeInsideARunOfOpensGoesToTheFrameOpenThen() throws {
        // (type, frame, at): opens at different times in a row, the same path opened twice,
        // an outer close that closes the frames inside it, a frame still open at the end.
        let events: [(String, Int, Double)] = [
            ("O", 0, 0), ("O", 1, 1), ("O", 2, 3), ("O", 3, 6), ("C", 3, 10), ("C", 2, 11),
            ("O", 2, 12.5), ("O", 1, 14), ("C", 1, 15), ("C", 2, 15), ("O", 3, 16), ("O", 2, 16),
            ("C", 1, 20), ("O", 1, 21), ("O", 3, 21.25), ("O", 2, 23),
        ]
        let endValue = 30.0
        let names = ["a", "b", "c", "d"]
        var expected: [String: Double] = [:]
        var open: [Int] = []
        var last = events[0].2
        for (type, f, at) in events {
            if !open.isEmpty { expected[open.map { names[$0] }.joined(separator: ";"), default: 0] += at - last }
            last = at
            if type == "O" { open.append(f) } else if let k = open.lastIndex(of: f) { open.removeSubrange(k...) }
        }
        expected[open.map { names[$0] }.joined(separator: ";"), default: 0] += endValue - last
        expected = expected.filter { $0.value != 0 }

        let json = "{\"shared\": {\"frames\": [" + names.map { "{\"name\": \"\($0)\"}" }.joined(separator: ", ")
            + "]}, \"profiles\": [{\"type\": \"evented\", \"name\": \"T\", \"unit\": \"seconds\", \"startValue\": 0, "
            + "\"endValue\": \(endValue), \"events\": ["
            + events.map { "{\"type\": \"\($0.0)\", \"frame\": \($0.1), \"at\": \($0.2)}" }.joined(separator: ", ") + "]}]}"
        let p = try FormatRegistry.load(source: MemorySource(Array(json.utf8), chunk: 1 << 20), name: "<test>", format: nil)
            .mergingThreads()
        var got: [String: Double] = [:]
        for n in 1..<p.tree.count where p.tree.selfWeight[0][n] != 0 {
            let path = p.tree.framePath(to: Int32(n)).map { p.frames.name(ofFrame: $0) }.joined(separator: ";")
            got[path, default: 0] += p.tree.selfWeight[0][n]
        }
        XCTAssertEqual(got, expected)
        XCTAssertEqual(p.total(metric: 0), endValue)
    }

    /// A file big enough to be mapped (and to have its passed pages handed back while it is
    /// read) gives what the same bytes give read as a stream, and the counts it was written with.
    func testMappedFileReadsAsTheStreamDoes() throws {
        let frames = 200, samples = 60_000
        var text = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"profiles\":["
        var weightSum = 0.0
        for thread in 0..<2 {
            var stacks: [String] = [], weights: [String] = []
            for i in 0..<samples {
                let depth = 5 + (i * 7 + thread) % 20
                stacks.append("[" + (0..<depth).map { String(($0 * 13 + i / 50 + thread) % frames) }.joined(separator: ",") + "]")
                let w = Double(1 + i % 3)
                weights.append(String(Int(w)))
                weightSum += w
            }
            text += (thread > 0 ? "," : "") + "{\"type\":\"sampled\",\"name\":\"thread \(thread)\",\"unit\":\"none\","
                + "\"startValue\":0,\"endValue\":1,\"samples\":[" + stacks.joined(separator: ",")
                + "],\"weights\":[" + weights.joined(separator: ",") + "]}"
        }
        text += "],\"shared\":{\"frames\":[" + (0..<frames).map { "{\"name\":\"f\($0)\",\"file\":\"m.py\",\"line\":\($0 + 1)}" }
            .joined(separator: ",") + "]}}"
        XCTAssertGreaterThan(text.utf8.count, 3 * JSONInput.mapFrom)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(getpid()).speedscope.json")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let mapped = try load(url.path)
        let streamed = try FormatRegistry.load(source: MemorySource(Array(text.utf8), chunk: 7919), name: "<test>")
        XCTAssertEqual(mapped.sampleCount, 2 * samples)
        XCTAssertEqual(mapped.total(metric: 0), weightSum)
        XCTAssertEqual(Exporter.collapsed(mapped, metric: 0), Exporter.collapsed(streamed, metric: 0))
    }
}
