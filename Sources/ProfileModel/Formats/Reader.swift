/// What a reader says about the first bytes of an input.
public enum SniffResult: Sendable { case yes, no, needMore }

public struct ReadOptions: Sendable {
    public var fileName: String = "<input>"
    /// Merge the executing lines of a function into one frame while reading (py-spy and austin
    /// put the line into every frame). Readers that can do it save a second tree build;
    /// `Profile.mergingLines()` does the same afterwards for the others.
    public var mergeLines = false
    /// Leave out the thread grouping frames while reading, for a caller that shows threads
    /// merged and never splits them: the tree `Profile.mergingThreads()` would make, without
    /// first building the one with threads. Readers that cannot do it ignore it (the caller's
    /// `merging(threads:)` then does it; after one that did, that finds no threads).
    public var mergeThreads = false
    /// A frame table to extend instead of starting empty, so function ids of an earlier read of
    /// the same file stay valid (the viewer re-reads with lines split). Line-based readers use it.
    public var seedFrames: FrameTable? = nil
    public init(fileName: String = "<input>", mergeLines: Bool = false, mergeThreads: Bool = false,
                seedFrames: FrameTable? = nil) {
        self.fileName = fileName
        self.mergeLines = mergeLines
        self.mergeThreads = mergeThreads
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
    /// Honours `ReadOptions.mergeLines` (and `seedFrames`): a viewer re-reads such a file to
    /// split lines; other formats merge them afterwards (`Profile.merging`).
    static var mergesLinesWhileReading: Bool { get }
}

extension ProfileReader {
    public static var mergesLinesWhileReading: Bool { false }
}

extension UnsafeRawBufferPointer {
    /// Calls `body` with each line of the prefix in order (without its `\n` or `\r\n`, and
    /// without a leading UTF-8 BOM; blank lines included) until it returns false. The last
    /// line is left out when the prefix is incomplete, since it may be cut. On bytes and
    /// lazily: sniffers read a few lines, and splitting all 64 KiB of a prefix into
    /// Characters for each sniffer was a visible part of every load.
    func forEachLine(complete: Bool, _ body: (Substring) -> Bool) {
        guard let base = baseAddress else { return }
        var start = count >= 3 && self[0] == 0xEF && self[1] == 0xBB && self[2] == 0xBF ? 3 : 0
        while start < count {
            let nl = memchr(base + start, 0x0A, count - start).map { UnsafeRawPointer($0) - base }
            if nl == nil && !complete { return }
            var end = nl ?? count
            if end > start && self[end - 1] == 0x0D { end -= 1 }
            let line = String(decoding: UnsafeRawBufferPointer(rebasing: self[start..<end]), as: UTF8.self)
            if !body(Substring(line)) { return }
            start = (nl ?? count) + 1
        }
    }

    /// Lines of the prefix that carry data: not blank, not `#` or `//` comments (see
    /// `forEachLine`), at most `limit`.
    func dataLines(complete: Bool, limit: Int = 50) -> [Substring] {
        var out: [Substring] = []
        forEachLine(complete: complete) { l in
            let t = l.drop(while: { $0 == " " || $0 == "\t" })
            if !(t.isEmpty || t.hasPrefix("#") || t.hasPrefix("//")) { out.append(l) }
            return out.count < limit
        }
        return out
    }
}
