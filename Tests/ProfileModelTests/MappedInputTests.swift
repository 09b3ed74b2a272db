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
}
