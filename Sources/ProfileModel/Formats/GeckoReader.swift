/// Firefox Profiler / gecko JSON (Tachyon). Placeholder: not implemented yet (sniff never claims a file).
public enum GeckoReader: ProfileReader {
    public static let name = "gecko"
    public static let title = "Firefox Profiler / gecko JSON (Tachyon)"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult { .no }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        throw ProfileError("the gecko reader is not implemented yet")
    }
}
