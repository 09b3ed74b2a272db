/// What a reader says about the first bytes of an input.
public enum SniffResult: Sendable { case yes, no, needMore }

public struct ReadOptions: Sendable {
    public var fileName: String = "<input>"
    /// Merge the executing lines of a function into one frame while reading (py-spy and austin
    /// put the line into every frame). Readers that can do it save a second tree build;
    /// `Profile.mergingLines()` does the same afterwards for the others.
    public var mergeLines = false
    /// A frame table to extend instead of starting empty, so function ids of an earlier read of
    /// the same file stay valid (the viewer re-reads with lines split). Line-based readers use it.
    public var seedFrames: FrameTable? = nil
    public init(fileName: String = "<input>", mergeLines: Bool = false, seedFrames: FrameTable? = nil) {
        self.fileName = fileName
        self.mergeLines = mergeLines
        self.seedFrames = seedFrames
    }
}

/// One reader per format: a content sniffer and a streaming read into a builder.
public protocol ProfileReader {
    /// Stable short name used by `--format` and in reports (`pstats`, `collapsed`, ...).
    static var name: String { get }
    /// What a user would call it.
    static var title: String { get }
    /// Looks at the first bytes (up to 64 KiB). `complete` is true when they are the whole input.
    static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult
    /// Reads the whole stream. Errors are `ProfileError`s with a line or byte offset.
    static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder
}

extension UnsafeRawBufferPointer {
    /// Lines of the prefix that carry data: not blank, not `#` comments. The last line is
    /// dropped when the prefix is incomplete, since it may be cut.
    func dataLines(complete: Bool, limit: Int = 50) -> [Substring] {
        var text = String(decoding: self, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if !complete && !lines.isEmpty && !(text.hasSuffix("\n")) { lines.removeLast() }
        var out: [Substring] = []
        for l in lines {
            let t = l.drop(while: { $0 == " " || $0 == "\t" })
            if t.isEmpty || t.hasPrefix("#") || t.hasPrefix("//") { continue }
            out.append(l)
            if out.count >= limit { break }
        }
        return out
    }
}
