import Foundation
import XCTest
@testable import ProfileModel

/// The streaming pstats path (PstatsFastPath) against the general marshal decoder: whenever
/// the fast path accepts an input, the function table, edges, names and warnings must be the
/// ones the general decoder gives; anything it cannot read must go to the general decoder.
final class PstatsFastPathTests: XCTestCase {
    func general(_ buf: UnsafeRawBufferPointer) throws -> ProfileBuilder {
        do { return try PstatsReader.parse(buf, modernCode: true) }
        catch is PstatsReader.MarshalRetry { return try PstatsReader.parse(buf, modernCode: false) }
    }

    func assertSame(_ a: ProfileBuilder, _ b: ProfileBuilder, _ label: String) {
        guard let x = a.exactFunctions, let y = b.exactFunctions else { return XCTFail("no function table: \(label)") }
        XCTAssertEqual(x.count, y.count, label)
        XCTAssertEqual(x.selfWeight, y.selfWeight, label)
        XCTAssertEqual(x.totalWeight, y.totalWeight, label)
        XCTAssertEqual(x.calls, y.calls, label)
        XCTAssertEqual(x.primitiveCalls, y.primitiveCalls, label)
        XCTAssertEqual(x.edgeCaller, y.edgeCaller, label)
        XCTAssertEqual(x.edgeCallee, y.edgeCallee, label)
        XCTAssertEqual(x.edgeWeight, y.edgeWeight, label)
        XCTAssertEqual(x.edgeCalls, y.edgeCalls, label)
        XCTAssertEqual(a.frames.functionName, b.frames.functionName, label)
        XCTAssertEqual(a.frames.functionFile, b.frames.functionFile, label)
        XCTAssertEqual(a.frames.functionLine, b.frames.functionLine, label)
        XCTAssertEqual(a.frames.functionKind, b.frames.functionKind, label)
        XCTAssertEqual(a.frames.strings.bytes, b.frames.strings.bytes, label)
        XCTAssertEqual(a.warnings, b.warnings, label)
        XCTAssertEqual(a.metadata.map { "\($0.0)=\($0.1)" }, b.metadata.map { "\($0.0)=\($0.1)" }, label)
    }

    /// The fast result, checked against the general decoder; nil when the fast path declined.
    @discardableResult
    func check(_ bytes: [UInt8], _ label: String) -> ProfileBuilder? {
        bytes.withUnsafeBytes { buf -> ProfileBuilder? in
            guard let fast = PstatsReader.parseFast(buf) else { return nil }
            do { assertSame(fast, try general(buf), label) } catch {
                XCTFail("\(label): the fast path read what the general decoder refuses: \(error)")
            }
            return fast
        }
    }

    func testRealDumpsTakeTheFastPathAndMatchTheGeneralDecoder() throws {
        var files: [(String, Bool)] = [(Fixtures.sample("etl.prof"), true), (Fixtures.sample("etl-fixed.prof"), true)]
        if let dir = Fixtures.corpusDir {
            let g = dir + "/generated/"
            files += [(g + "yappi/yappi.pstat", true), (g + "pyinstrument/pyinstrument.pstats", true)]
            for v in ["38", "39", "310", "311", "312", "313"] { files.append((g + "cprofile/cprofile-py\(v).pstats", true)) }
            // Pure `profile` keys frames by code objects: the general decoder's job.
            for v in ["38", "312"] { files.append((g + "cprofile/profile-py\(v).pstats", false)) }
        }
        var rng = SeededRNG(seed: 0x9e37)
        var accepted = 0
        for (path, fast) in files {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(check(bytes, path) != nil, fast, "\(path): fast path taken")
            // Damaged copies: whatever the fast path still accepts must match the general decoder.
            for k in 0..<60 {
                var b = bytes
                let i = Int(rng.next() % UInt64(b.count))
                switch k % 3 {
                case 0: b = Array(b[0..<i])
                case 1: b[i] = UInt8(truncatingIfNeeded: rng.next())
                default: b[i] ^= UInt8(1) << (rng.next() % 8)
                }
                if check(b, "\(path) damaged #\(k) at \(i)") != nil { accepted += 1 }
            }
        }
        XCTAssertGreaterThan(accepted, 0)
    }

    /// References to floats, ints wider than a slot's payload, strings and key tuples; a key
    /// rebuilt from referenced strings; a pure-`profile` count as a caller value.
    func testReferencesOfEveryKindTheFastPathKeeps() throws {
        var w = MarshalWriter()
        w.dict(ref: true)                                           // ref 0
        // f: a shared key tuple whose strings and line are shared too.
        w.tuple(3, ref: true); w.str("a.py", ref: true); w.int(10, ref: true); w.str("f", ref: true)   // refs 1-4
        w.tuple(5); w.wide(1 << 62 | 5, ref: true); w.r(5)          // ref 5: an int wider than 62 bits
        w.float(0.5, ref: true); w.float(1.25)                      // ref 6
        w.dict(); w.end()
        // g: called by f (a reference to its tuple) and by h (a new key, a bare count).
        w.tuple(3); w.r(2); w.int(20); w.str("g", ref: true)       // ref 7
        w.tuple(5); w.int(1); w.int(2); w.r(6); w.int(3)
        w.dict()
        w.r(1); w.tuple(4); w.int(1); w.int(1); w.float(0.1); w.r(6)
        w.tuple(3); w.r(2); w.int(30); w.str("h", ref: true); w.int(4)   // ref 8
        w.end()
        // h again, from referenced strings only: the same function.
        w.tuple(3); w.r(2); w.int(30); w.r(8)
        w.tuple(5); w.int(4); w.int(4); w.float(0.25); w.float(2.0)
        w.dict(); w.tuple(3); w.r(2); w.r(3); w.r(4); w.tuple(4); w.int(2); w.int(2); w.float(0.0); w.float(0.75); w.end()
        w.end()

        let b = try XCTUnwrap(check(w.bytes, "synthetic"), "the fast path reads this dump")
        let ft = try XCTUnwrap(b.exactFunctions)
        XCTAssertEqual(ft.count, 3)
        let names = (0..<3).map { b.frames.name(ofFunction: Int32($0)) }
        let f = try XCTUnwrap(names.firstIndex(of: "f")), g = try XCTUnwrap(names.firstIndex(of: "g"))
        let h = try XCTUnwrap(names.firstIndex(of: "h"))
        XCTAssertEqual(ft.calls?[f], 1 << 62 | 5)
        XCTAssertEqual(ft.selfWeight[0][f], 0.5)
        XCTAssertEqual(ft.totalWeight[0][g], 3)
        XCTAssertEqual(ft.selfWeight[0][g], 0.5)
        XCTAssertEqual(ft.calls?[h], 4)
        let edges = (0..<ft.edgeCaller.count).map { "\(names[Int(ft.edgeCaller[$0])])>\(names[Int(ft.edgeCallee[$0])])" }
        XCTAssertEqual(edges, ["f>g", "h>g", "f>h"])
        XCTAssertEqual(ft.edgeWeight[0], [0.5, 3.0 * 4 / 2, 0.75])   // a bare count shares g's time by calls
        XCTAssertEqual(ft.edgeCalls ?? [], [1, 4, 2])
    }

    /// Tachyon's `("__sampled__",)` marker, a bool count and a reference to a value tuple are
    /// left to the general decoder, which still reads them.
    func testUnusualShapesGoToTheGeneralDecoder() throws {
        func dump(_ body: (inout MarshalWriter) -> Void) -> [UInt8] {
            var w = MarshalWriter()
            w.dict()
            body(&w)
            w.tuple(3); w.str("m.py"); w.int(1); w.str("main")
            w.tuple(5); w.int(1); w.int(1); w.float(0.5); w.float(0.5); w.dict(); w.end()
            w.end()
            return w.bytes
        }
        let marker = dump { w in w.tuple(1); w.str("__sampled__"); w.int(1) }
        let boolCount = dump { w in
            w.tuple(3); w.str("b.py"); w.int(2); w.str("b")
            w.tuple(5); w.code("T"); w.code("T"); w.float(0.1); w.float(0.1); w.dict(); w.end()
        }
        for (label, bytes) in [("marker", marker), ("bool", boolCount)] {
            XCTAssertNil(check(bytes, label), label)
            let p = try FormatRegistry.load(source: MemorySource(bytes), name: "\(label).prof")
            XCTAssertEqual(p.format, "pstats", label)
            XCTAssertNotNil(p.functionIndex(name: "main", fileSuffix: "m.py"), label)
        }
        let p = try FormatRegistry.load(source: MemorySource(marker), name: "marker.prof")
        XCTAssertTrue(p.metadata.contains { $0.0 == "sampled" && $0.1 == "true" })
    }
}

/// Writes marshal (version 4) by hand, FLAG_REF where asked.
struct MarshalWriter {
    var bytes: [UInt8] = []
    mutating func code(_ c: Character, ref: Bool = false) { bytes.append(c.asciiValue! | (ref ? 0x80 : 0)) }
    mutating func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func str(_ s: String, ref: Bool = false) { code("z", ref: ref); bytes.append(UInt8(s.utf8.count)); bytes += s.utf8 }
    mutating func int(_ v: Int32, ref: Bool = false) { code("i", ref: ref); le(v) }
    mutating func wide(_ v: Int64, ref: Bool = false) { code("I", ref: ref); le(v) }
    mutating func float(_ d: Double, ref: Bool = false) { code("g", ref: ref); le(d.bitPattern) }
    mutating func r(_ i: Int32) { code("r"); le(i) }
    mutating func tuple(_ n: Int, ref: Bool = false) { code(")", ref: ref); bytes.append(UInt8(n)) }
    mutating func dict(ref: Bool = false) { code("{", ref: ref) }
    mutating func end() { bytes.append(0x30) }
}

