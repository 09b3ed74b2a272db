import ArgumentParser
import Foundation
import ProfileModel

/// Writes all of `bytes` to a file descriptor, retrying short writes and EINTR. Returns 0, or
/// the errno that stopped it; the terminal and pipe writers ignore it, stopping quietly when
/// the reader has gone (a closed pipe).
@discardableResult
func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    var off = 0
    while off < bytes.count {
        let n = write(fd, bytes.baseAddress! + off, bytes.count - off)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return n < 0 ? errno : ENOSPC }
        off += n
    }
    return 0
}

/// Writes `bytes` to the file at `path`, created or truncated in place. In place, not through
/// a temporary file renamed over it (Foundation's `createFile` on Linux): that replaced a
/// symlink with a file and, run as root with `-o /dev/null`, the device itself.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try writeFile(path) { write in try bytes.withUnsafeBytes(write) }
}

/// `writeFile` (or standard output for a nil path) for output made in pieces: `body` is given
/// a function that writes one.
func writeFile(_ path: String?, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
    let fd = path.map { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } ?? 1
    let name = path ?? "standard output"
    guard fd >= 0 else { throw ProfileError("cannot write \(name): \(String(cString: strerror(errno)))") }
    var failure: Int32 = 0
    do {
        try body { bytes in
            // Standard output that went away (a closed pipe) ends the output quietly, as
            // `writeStdout` does.
            guard failure == 0 else { return }
            failure = writeAll(fd: fd, bytes)
            if failure != 0 && path != nil { throw ProfileError("cannot write \(name): \(String(cString: strerror(failure)))") }
        }
    } catch {
        if path != nil { close(fd) }
        throw error
    }
    if path != nil && close(fd) != 0 && errno != EINTR {
        throw ProfileError("cannot write \(name): \(String(cString: strerror(errno)))")
    }
}

func writeStdout(_ s: String) {
    // The last guard: whatever a command prints, a string from a file cannot reach the terminal raw.
    var s = TerminalSafe.escapeLines(s)
    _ = s.withUTF8 { writeAll(fd: 1, UnsafeRawBufferPointer($0)) }
}

func writeStdout(_ bytes: [UInt8]) {
    _ = bytes.withUnsafeBytes { writeAll(fd: 1, $0) }
}

func writeStderr(_ s: String) {
    var s = s
    _ = s.withUTF8 { writeAll(fd: 2, UnsafeRawBufferPointer($0)) }
}

/// Prints `perftop: FILE[:LINE|@OFFSET]: message` and returns exit status 2.
func fail(_ e: Error, file: String) -> ExitCode {
    let message: String
    if let pe = e as? ProfileError { message = pe.at(file: file).description }
    else { message = "\(file): \(e)" }
    writeStderr("perftop: \(message.terminalSafe)\n")
    return ExitCode(2)
}
