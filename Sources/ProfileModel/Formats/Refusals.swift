/// Files users open by mistake that are not profiles perftop reads: each gets a one-line
/// error naming the tool's option that writes a profile instead. Checked only after every
/// reader has said no (FormatRegistry.unsupported).
extension FormatRegistry {
    /// The first `n` bytes as text (invalid UTF-8 replaced), without a BOM or leading blanks.
    static func head(_ p: UnsafeRawBufferPointer, _ n: Int = 4096) -> Substring {
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: p[0..<min(p.count, n)]), as: UTF8.self)
        return Substring(s).drop { $0 == "\u{FEFF}" || $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
    }

    /// An SVG image: py-spy's default `record` output, flamegraph.pl's and inferno's.
    static func isSVG(_ p: UnsafeRawBufferPointer) -> Bool {
        let t = head(p)
        return (t.hasPrefix("<?xml") || t.hasPrefix("<svg") || t.hasPrefix("<!DOCTYPE svg")) && t.contains("<svg")
    }

    static func isHTML(_ p: UnsafeRawBufferPointer) -> Bool {
        let t = head(p, 512).lowercased()
        return t.hasPrefix("<!doctype html") || t.hasPrefix("<html")
    }

    /// pyinstrument's HTML report: the page embeds its renderer and the session.
    static func isPyinstrumentHTML(_ p: UnsafeRawBufferPointer) -> Bool {
        isHTML(p) && head(p, 1 << 16).contains("pyinstrumentHTMLRenderer")
    }

    /// pyinstrument's default text output: its banner, then `Recorded:` / `Duration:`.
    static func isPyinstrumentText(_ p: UnsafeRawBufferPointer) -> Bool {
        let t = head(p, 2048)
        return t.contains("._   __/__") && t.contains("Recorded:") && t.contains("Duration:")
    }

    /// `py-spy dump`: `Process N: COMMAND`, `Python vX.Y.Z (...)`, then `Thread N (...): "name"`.
    static func isPySpyDump(_ p: UnsafeRawBufferPointer) -> Bool {
        let t = head(p, 8192)
        guard t.hasPrefix("Process "), let colon = t.firstIndex(of: ":"),
              t[t.index(t.startIndex, offsetBy: 8)..<colon].allSatisfy(\.isNumber) else { return false }
        return t.contains("\nPython v") || t.contains("\nThread ")
    }

    /// `perf record`'s binary perf.data (either byte order).
    static func isPerfData(_ p: UnsafeRawBufferPointer) -> Bool {
        guard p.count >= 8 else { return false }
        let magic = String(decoding: UnsafeRawBufferPointer(rebasing: p[0..<8]), as: UTF8.self)
        return magic == "PERFILE2" || magic == "2ELIFREP"
    }

    static let refusals: [(String, @Sendable (UnsafeRawBufferPointer) -> Bool)] = [
        ("an SVG flame graph (py-spy record's default output) is a picture, not supported; record with "
         + "'py-spy record -f raw -o out.txt' (or '-f speedscope') and open that", isSVG),
        ("pyinstrument's HTML report is not supported; run 'pyinstrument -r json -o out.json' (or '-r session') "
         + "and open that", isPyinstrumentHTML),
        ("an HTML page (a rendered report or flame graph) is not supported; save the profiler's data instead: "
         + "py-spy record -f raw, pyinstrument -r json, Tachyon --binary or --collapsed", isHTML),
        ("pyinstrument's text output is not supported; run 'pyinstrument -r json -o out.json' (or '-r session') "
         + "and open that", isPyinstrumentText),
        ("'py-spy dump' output is one snapshot of the stacks, not supported; record with "
         + "'py-spy record -f raw -o out.txt' (or '-f speedscope') and open that", isPySpyDump),
        ("perf.data is perf record's binary file, not supported; run 'perf script -i FILE > out.txt' "
         + "and open that", isPerfData),
    ]
}
