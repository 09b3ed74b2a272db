/// The formats perftop can follow while they are being written: one sample per line (folded,
/// austin text) or per event (austin MOJO). Picked from the first bytes, as for files.
public final class StreamParser {
    public enum Kind: String, Sendable { case folded = "collapsed", austin, mojo }
    public let kind: Kind
    private let folded: FoldedParser?
    private let austin: AustinParser?
    private let mojo: MojoParser?

    /// Sniffs `prefix`: nil with `needMore` when more bytes are needed, nil otherwise when the
    /// stream is none of the live formats.
    public static func sniff(_ prefix: [UInt8], complete: Bool) -> (Kind?, needMore: Bool) {
        prefix.withUnsafeBytes { p in
            var needMore = false
            let order: [(Kind, (UnsafeRawBufferPointer, Bool) -> SniffResult)] = [
                (.mojo, MojoReader.sniff), (.austin, AustinReader.sniff), (.folded, FoldedReader.sniff),
            ]
            for (k, sniff) in order {
                switch sniff(p, complete) {
                case .yes: return (k, false)
                case .needMore: needMore = true
                case .no: break
                }
            }
            return (nil, needMore)
        }
    }

    public init(kind: Kind, mergeLines: Bool = true) {
        self.kind = kind
        switch kind {
        case .folded:
            let p = FoldedParser(); p.mergeLines = mergeLines
            p.maxCount = StreamParser.maxCount
            p.holdShape = true
            folded = p; austin = nil; mojo = nil
        case .austin:
            let p = AustinParser(); p.mergeLines = mergeLines
            folded = nil; austin = p; mojo = nil
        case .mojo:
            folded = nil; austin = nil; mojo = MojoParser()
        }
    }

    /// The largest count one folded line of a live stream may carry: a sampler at 1 kHz for
    /// 30 years, or 11 days in microseconds. Larger is a bad line, not a sample; it keeps every
    /// sum exact in a Double and every sample figure within an Int.
    public static let maxCount = 1e12

    public var builder: ProfileBuilder { folded?.builder ?? austin?.builder ?? mojo!.builder }

    public func feed(_ bytes: UnsafeRawBufferPointer) throws {
        if let folded { folded.feed(bytes) } else if let austin { austin.feed(bytes) } else { try mojo?.feed(bytes) }
    }

    /// Samples so far (folded counts, austin lines, MOJO samples).
    public var samples: Int {
        if let folded { return Int(min(folded.total, 9e18)) }
        return austin?.sampleLines ?? mojo?.samples ?? 0
    }

    /// Lines that were not samples (counted and shown, never fatal).
    public var garbage: Int { folded?.skippedLines ?? austin?.skippedLines ?? 0 }

    public var warnings: [String] { folded?.warnings ?? austin?.warnings ?? mojo?.warnings ?? [] }

    /// The stream ended: a last line without a newline counts, a MOJO sample in progress closes.
    public func finish() throws {
        if let folded { _ = try folded.finish() } else if let austin { _ = try austin.finish() } else { _ = try mojo?.finish() }
    }

    /// Keeps the nodes `keep` marks (see `ProfileBuilder.compact`) and forgets the node ids the
    /// parser cached for the next stack. Folded and austin streams drop unused frames too (the
    /// parser finds frames by their text again); MOJO refers to frames by ids defined once in
    /// the stream, so its frames stay. Returns each old node's new id (-1: dropped).
    func compact(keeping keep: [Bool]) -> [Int32] {
        let map = builder.compact(keeping: keep, frames: mojo == nil)
        folded?.forgetPaths()
        austin?.forgetPaths()
        mojo?.forgetPaths()
        return map
    }

    /// The profile so far. The parser keeps going afterwards.
    public func snapshot(source: String) -> Profile {
        let b = builder
        b.warnings = warnings
        b.sampleCount = samples
        return b.freeze(source: source)
    }
}
