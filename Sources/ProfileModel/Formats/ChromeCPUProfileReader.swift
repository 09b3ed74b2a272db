/// Chrome DevTools .cpuprofile. Placeholder: not implemented yet (sniff never claims a file).
public enum ChromeCPUProfileReader: ProfileReader {
    public static let name = "cpuprofile"
    public static let title = "Chrome DevTools .cpuprofile"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the cpuprofile reader is not implemented yet")
    }
}
