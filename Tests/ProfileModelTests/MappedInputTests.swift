import Foundation
import XCTest
@testable import ProfileModel

/// A JSON file of 1 MiB or more is mapped, not copied (JSONInput). Another process may cut the
/// file while it is read: the pages past its new end then raise SIGBUS, which must not end
/// perftop (a profiler rewriting its output while the viewer re-reads it, say).
final class MappedInputTests: XCTestCase {
    /// A file's source as the registry hands it to a reader: sniffed bytes first, then the rest.
    private func openSniffed(_ path: String) throws -> PrefixedSource {
        let file = try FileSource(path: path)
        var prefix = [UInt8](repeating: 0, count: 4096)
        let n = try prefix.withUnsafeMutableBytes { try file.read(into: $0) }
        prefix.removeLast(prefix.count - n)
        return PrefixedSource(prefix: prefix, rest: file)
    }

    private func writeTemp(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid()).json").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testAFileCutWhileMappedReadsZerosAndFailsSayingSo() throws {
        // A JSON array of 3 MiB: "[0,0,0,...,0]".
        var bytes: [UInt8] = [0x5B]
        while bytes.count < 3 << 20 { bytes += [0x30, 0x2C] }
        bytes += [0x30, 0x5D]
        let path = try writeTemp(bytes, "cut")
        defer { unlink(path) }
        let input = try JSONInput(openSniffed(path))
        XCTAssertEqual(input.count, bytes.count)
        XCTAssertFalse(input.wasCut)
        // Cut to one page while it is mapped, as another process would.
        XCTAssertEqual(truncate(path, 4096), 0)
        var seen: [UInt8] = []
        XCTAssertThrowsError(try input.scan { buffer in
            seen = [buffer[100], buffer[2 << 20], buffer[buffer.count - 1]]
        }) { error in
            XCTAssertTrue("\(error)".contains("cut short by another process"), "\(error)")
        }
        // Before the cut: the file's bytes; past it: the guard's zeros, not a crash.
        XCTAssertEqual(seen, [bytes[100], 0, 0])
        XCTAssertTrue(input.wasCut)
    }

    func testAWholeMappedFileReadsAsWritten() throws {
        var bytes: [UInt8] = [0x5B]
        while bytes.count < 2 << 20 { bytes += Array("\(bytes.count % 97),".utf8) }
        bytes += [0x31, 0x5D]
        let path = try writeTemp(bytes, "whole")
        defer { unlink(path) }
        let input = try JSONInput(openSniffed(path))
        let sum = try input.scan { buffer -> Int in
            var s = JSONScanner(buffer)
            var total = 0
            try s.beginArray()
            while try s.nextElement() { total += Int(try s.readNumber()) }
            return total
        }
        // The same sum worked out from the bytes written.
        let expected = String(decoding: bytes.dropFirst().dropLast(), as: UTF8.self)
            .split(separator: ",").reduce(0) { $0 + Int($1)! }
        XCTAssertEqual(sum, expected)
        XCTAssertFalse(input.wasCut)
    }

    /// The reader on a cut file, end to end: a one-line error, never a signal.
    func testSpeedscopeReaderOnAFileCutWhileMapped() throws {
        var text = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"profiles\":[{\"type\":\"sampled\","
            + "\"name\":\"t\",\"unit\":\"none\",\"startValue\":0,\"endValue\":1,\"samples\":["
        text += Array(repeating: "[0,1,2,3,4,5,6,7]", count: 200_000).joined(separator: ",")
        text += "],\"weights\":[" + Array(repeating: "1", count: 200_000).joined(separator: ",") + "]}],"
            + "\"shared\":{\"frames\":[" + (0..<8).map { "{\"name\":\"f\($0)\"}" }.joined(separator: ",") + "]}}"
        let path = try writeTemp(Array(text.utf8), "cut-speedscope")
        defer { unlink(path) }
        let source = try openSniffed(path)
        let input = try JSONInput(source)
        XCTAssertEqual(truncate(path, 8192), 0)
        let parser = SpeedscopeParser()
        XCTAssertThrowsError(try input.scan { try parser.parse($0) }) { error in
            XCTAssertTrue("\(error)".contains("cut short by another process"), "\(error)")
        }
    }

    /// The Scalene reader on a file cut while mapped: the same one-line error as the others.
    func testScaleneReaderOnAFileCutWhileMapped() throws {
        let line = "{\"lineno\":1,\"line\":\"x = 1\",\"n_cpu_percent_python\":0.5,\"n_cpu_percent_c\":0,\"n_sys_percent\":0}"
        let text = "{\"alloc_samples\":0,\"args\":[],\"elapsed_time_sec\":1.0,\"files\":{\"/srv/a.py\":{\"functions\":[],"
            + "\"lines\":[" + Array(repeating: line, count: 20_000).joined(separator: ",") + "]}},\"memory\":false,\"stacks\":[]}"
        try assertCutWhileMapped(text, "cut-scalene") { _ = try ScaleneReader.read(input: $0) }
    }

    /// The memray/gprof2dot reader on a file cut while mapped: the same one-line error as the others.
    func testGprof2dotReaderOnAFileCutWhileMapped() throws {
        let event = "{\"callchain\":[2,1,0],\"cost\":[64,1]}"
        let text = "{\"version\":0,\"costs\":[{\"description\":\"Memory\",\"unit\":\"bytes\"},{\"description\":\"Allocations\",\"unit\":\"count\"}],"
            + "\"events\":[" + Array(repeating: event, count: 40_000).joined(separator: ",") + "],"
            + "\"functions\":[" + (0..<3).map { "{\"name\":\"f\($0)\",\"module\":\"a.py\"}" }.joined(separator: ",") + "]}"
        try assertCutWhileMapped(text, "cut-gprof2dot") { _ = try MemrayGprof2dotReader.read(input: $0) }
    }

    /// `read` takes a mapped file of `text` whole, then fails with the one-line "cut short"
    /// error once the file is cut under it.
    func assertCutWhileMapped(_ text: String, _ name: String, _ read: (JSONInput) throws -> Void,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try writeTemp(Array(text.utf8), name)
        defer { unlink(path) }
        XCTAssertGreaterThan(text.utf8.count, JSONInput.mapFrom, file: file, line: line)
        XCTAssertNoThrow(try read(JSONInput(openSniffed(path))), file: file, line: line)
        let input = try JSONInput(openSniffed(path))
        XCTAssertEqual(truncate(path, 8192), 0, file: file, line: line)
        XCTAssertThrowsError(try read(input), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains("cut short by another process"), "\(error)", file: file, line: line)
        }
    }

    /// A pprof file of some MiB: `n` samples of two stacks, main;work;leaf and main;work, with
    /// values 1...n (so the total is n(n+1)/2 and the leaf's self weight the odd ones' sum).
    private func pprofBytes(samples n: Int) throws -> [UInt8] {
        var pb = Perftools_Profiles_Profile()
        pb.stringTable = ["", "samples", "count", "main", "work", "leaf", "a.go"].map { Data($0.utf8) }
        var vt = Perftools_Profiles_ValueType(); vt.type = 1; vt.unit = 2
        pb.sampleType = [vt]
        pb.function = (1...3).map { var f = Perftools_Profiles_Function(); f.id = UInt64($0); f.name = Int64($0 + 2); f.filename = 6; return f }
        pb.location = (1...3).map { i in
            var l = Perftools_Profiles_Location(); l.id = UInt64(10 * i)
            var line = Perftools_Profiles_Line(); line.functionID = UInt64(i); line.line = Int64(i)
            l.line = [line]
            return l
        }
        pb.sample = (1...n).map { i in
            var s = Perftools_Profiles_Sample()
            s.locationID = i % 2 == 1 ? [30, 20, 10] : [20, 10]
            s.value = [Int64(i)]
            return s
        }
        return try pb.serializedBytes()
    }

    func testAMappedPprofFileReadsAsWritten() throws {
        let n = 300_000
        let bytes = try pprofBytes(samples: n)
        XCTAssertGreaterThan(bytes.count, JSONInput.mapFrom)
        let path = try writeTemp(bytes, "whole-pprof")
        defer { unlink(path) }
        XCTAssertNotNil(JSONInput.mapping(try openSniffed(path)))
        let p = try FormatRegistry.load(path: path)
        XCTAssertEqual(p.total(metric: 0), Double(n * (n + 1) / 2))
        var selfByName: [String: Double] = [:]
        for node in 1..<p.tree.count {
            selfByName[p.frames.frame(p.tree.frame[node]).name, default: 0] += p.tree.selfWeight[0][node]
        }
        let odd = (n + 1) / 2                  // 1 + 3 + ... + (2 odd - 1) = odd²
        XCTAssertEqual(selfByName, ["main": 0, "work": Double(n * (n + 1) / 2 - odd * odd), "leaf": Double(odd * odd)])
    }

    /// The pprof reader on a file cut while mapped: a one-line error, never a signal.
    func testPprofReaderOnAFileCutWhileMapped() throws {
        let path = try writeTemp(try pprofBytes(samples: 300_000), "cut-pprof")
        defer { unlink(path) }
        let input = try XCTUnwrap(JSONInput.mapping(try openSniffed(path)))
        XCTAssertEqual(truncate(path, 8192), 0)
        XCTAssertThrowsError(try PprofReader.read(mapped: input, options: ReadOptions())) { error in
            XCTAssertTrue("\(error)".contains("cut short by another process"), "\(error)")
        }
    }
}
