/// speedscope JSON (py-spy, speedscope, pyinstrument). Placeholder: not implemented yet (sniff never claims a file).
public enum SpeedscopeReader: ProfileReader {
    public static let name = "speedscope"
    public static let title = "speedscope JSON (py-spy, speedscope, pyinstrument)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the speedscope reader is not implemented yet")
    }
}
