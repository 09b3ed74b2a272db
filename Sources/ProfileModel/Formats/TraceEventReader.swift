/// Chrome Trace Event JSON (py-spy chrometrace, viztracer). Placeholder: not implemented yet (sniff never claims a file).
public enum TraceEventReader: ProfileReader {
    public static let name = "trace-event"
    public static let title = "Chrome Trace Event JSON (py-spy chrometrace, viztracer)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the trace-event reader is not implemented yet")
    }
}
