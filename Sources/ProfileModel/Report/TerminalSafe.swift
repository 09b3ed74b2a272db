/// The one definition of which characters from a file may reach a terminal. Every string
/// that comes from a profile (names, files, units, metric names, thread names, warnings)
/// goes through `isUnsafe` on its way out: the text report, diff, summary, convert's
/// messages, JSON output (as `\u` escapes) and the viewer's cell grid.
public enum TerminalSafe {
    /// Characters that can drive a terminal or hide or reorder text: C0 controls (including
    /// tab and newline, which would break a line-based layout), DEL and C1 (`\x9b` is CSI on
    /// some terminals), the line and paragraph separators, bidi marks, embeddings, overrides
    /// and isolates (U+061C, U+200E-F, U+202A-E, U+2066-9), zero-width and invisible
    /// characters (U+200B-D, U+2060-4, U+FEFF), deprecated format controls (U+206A-F),
    /// interlinear annotations (U+FFF9-B) and tag characters (U+E0000-7F, invisible text).
    @inline(__always)
    public static func isUnsafe(_ v: UInt32) -> Bool {
        if v < 0x20 || v == 0x7F { return true }
        if v < 0x80 { return false }
        if v < 0xA0 { return true }
        if v < 0x61C { return false }
        return v == 0x61C || (v >= 0x200B && v <= 0x200F) || (v >= 0x2028 && v <= 0x202E)
            || (v >= 0x2060 && v <= 0x206F) || v == 0xFEFF || (v >= 0xFFF9 && v <= 0xFFFB)
            || (v >= 0xE0000 && v <= 0xE007F)
    }

    @inline(__always)
    public static func isUnsafe(_ s: Unicode.Scalar) -> Bool { isUnsafe(s.value) }

    /// How an unsafe character is shown: `\x1b` below U+0100, `\u{202e}` above.
    public static func escaped(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16)
        return s.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
    }

    /// `text` with every unsafe character replaced by its visible escape.
    public static func escape(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0) }) else { return text }
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if isUnsafe(u) { out.append(contentsOf: escaped(u).unicodeScalars) } else { out.append(u) }
        }
        return String(out)
    }

    /// Escapes each line of a finished text (a report, a diff table) and keeps its newlines:
    /// the last guard on what a command prints, so a field that was missed still cannot
    /// reach the terminal raw. Escaping is idempotent (an escape is plain ASCII).
    public static func escapeLines(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 != "\n" && isUnsafe($0) }) else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }
            .joined(separator: "\n")
    }
}

extension String {
    /// The text with control characters, escape sequences, bidi controls and invisible
    /// characters made visible (`\x1b`, `\u{202e}`): see `TerminalSafe.isUnsafe`.
    public var terminalSafe: String { TerminalSafe.escape(self) }
}
