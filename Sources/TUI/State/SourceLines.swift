import Foundation
import ProfileModel

/// What the source overlay and `e` need from the profile: the samples of each line of the
/// selected function, where to open the editor, and which line to show first.
extension Session {
    /// Self weight per line of the function, from the line-level profile.
    func lineWeights(_ s: AppState) -> (Profile, Int32, [Int: Double])? {
        guard let f = s.selectedFunction else { return nil }
        let p = lineLevel(for: s)
        guard Int(f) < p.functions.count else { return nil }
        let m = min(s.metric, p.metrics.count - 1)
        var d: [Int: Double] = [:]
        if !p.estimatedTree {
            for n in p.functions.nodes(of: f) {
                if let l = p.frames.line(ofFrame: p.tree.frame[Int(n)]) { d[l, default: 0] += p.tree.selfWeight[m][Int(n)] }
            }
        }
        return (p, f, d)
    }

    /// Where `e` opens the editor: the function's file (found as the source view finds it)
    /// at its hottest line, or at its first line when no line was sampled. Reads no file once
    /// `editReady` holds (the `.read` effect looked the path up).
    public func editTarget(_ s: AppState, function f: Int32) -> EditLookup {
        var st = s
        st.selectedFunction = f
        guard let (p, fn, weights) = lineWeights(st), let file = p.frames.file(ofFunction: fn),
              !file.isEmpty, !file.hasPrefix("<") else { return .noSource }
        let hot = weights.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
        let line = hot ?? p.frames.line(ofFunction: fn)
        if let found = sourcePath(file) {
            if found.binary { return .binary(file: file) }
            return .target(EditTarget(path: found.path, line: line, exists: true))
        }
        return .target(EditTarget(path: file, line: line, exists: false))
    }

    /// Whether the file starts with a NUL or ELF's magic (`\x7FELF`).
    static func isBinary(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = [UInt8]((try? h.read(upToCount: 4)) ?? Data())
        return head.first == 0 || head == [0x7F, 0x45, 0x4C, 0x46]
    }

    /// The first line shown: the hottest line centred, or the definition line for formats
    /// that record no executing lines (pstats, yappi), as `e` opens the editor there.
    public func sourceTop(_ s: AppState, height: Int) -> Int {
        guard let (p, f, d) = lineWeights(s),
              let line = d.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key
                ?? p.frames.line(ofFunction: f) else { return 1 }
        return max(1, line - height / 2)
    }
}
