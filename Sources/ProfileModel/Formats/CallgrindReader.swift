/// callgrind (valgrind, yappi). Placeholder: not implemented yet (sniff never claims a file).
public enum CallgrindReader: ProfileReader {
    public static let name = "callgrind"
    public static let title = "callgrind (valgrind, yappi)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the callgrind reader is not implemented yet")
    }
}
