/// perf script text. Placeholder: not implemented yet (sniff never claims a file).
public enum PerfScriptReader: ProfileReader {
    public static let name = "perf-script"
    public static let title = "perf script text"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the perf-script reader is not implemented yet")
    }
}
