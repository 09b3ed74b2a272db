/// austin text samples. Placeholder: not implemented yet (sniff never claims a file).
public enum AustinReader: ProfileReader {
    public static let name = "austin"
    public static let title = "austin text samples"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the austin reader is not implemented yet")
    }
}
