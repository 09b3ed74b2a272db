/// pprof profile.proto (Go, Pyroscope). Placeholder: not implemented yet (sniff never claims a file).
public enum PprofReader: ProfileReader {
    public static let name = "pprof"
    public static let title = "pprof profile.proto (Go, Pyroscope)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the pprof reader is not implemented yet")
    }
}
