/// pyinstrument JSON and .pyisession. Placeholder: not implemented yet (sniff never claims a file).
public enum PyinstrumentReader: ProfileReader {
    public static let name = "pyinstrument"
    public static let title = "pyinstrument JSON and .pyisession"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the pyinstrument reader is not implemented yet")
    }
}
