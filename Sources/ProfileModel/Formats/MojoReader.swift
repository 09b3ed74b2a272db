/// austin MOJO binary. Placeholder: not implemented yet (sniff never claims a file).
public enum MojoReader: ProfileReader {
    public static let name = "mojo"
    public static let title = "austin MOJO binary"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the mojo reader is not implemented yet")
    }
}
