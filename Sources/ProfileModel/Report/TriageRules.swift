import Foundation

/// User triage rules from a small TOML file: `$XDG_CONFIG_HOME/perftop/config.toml` (or
/// `~/.config/perftop/config.toml`), or `--rules FILE`.
///
///     [triage]
///     replace = false                # true: drop the built-in rules
///
///     [[triage.rule]]
///     class = "db"                   # a new class, or a built-in one (lock, idle, ...)
///     title = "database calls"       # optional for built-in classes
///     pattern = "psycopg|sqlalchemy" # regex on NAME<TAB>FILE of a frame
///     source = 'cursor\.execute\('   # optional: regex on the frame's source line
///
/// User rules are checked before the built-in ones, in file order. Only this subset of TOML
/// is read: comments, the two tables, and keys with basic or literal strings or booleans.
public enum TriageRules {
    /// The rules in effect: `explicit` (`--rules FILE`, which must exist), else the user's
    /// config file if there is one, else the built-in table.
    public static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [Triage.Rule] {
        if let explicit { return try parse(try read(explicit), file: explicit) }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
        let path = base + "/perftop/config.toml"
        guard FileManager.default.fileExists(atPath: path) else { return Triage.rules }
        return try parse(try read(path), file: path)
    }

    static func read(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            throw ProfileError("no such rules file", file: path)
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw ProfileError("cannot read the rules file (or it is over 1 MiB)", file: path)
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ProfileError("the rules file is not UTF-8", file: path) }
        return text
    }

    /// The rules a config text gives: its own, then the built-in ones unless it replaces them.
    public static func parse(_ text: String, file: String) throws -> [Triage.Rule] {
        var replace = false
        var rules: [Triage.Rule] = []
        var section = ""
        var current: [String: (String, Int)]? = nil
        func titleOf(_ kind: String) -> String? {
            Triage.rules.first { $0.kind == kind }?.title ?? Triage.fallbackClasses.first { $0.0 == kind }?.1
        }
        func finish(_ startLine: Int) throws {
            guard let r = current else { return }
            current = nil
            guard let (kind, kl) = r["class"] else { throw ProfileError("a [[triage.rule]] needs class = \"...\"", line: startLine, file: file) }
            guard let (pattern, pl) = r["pattern"] else { throw ProfileError("a [[triage.rule]] needs pattern = \"...\"", line: startLine, file: file) }
            guard !kind.isEmpty else { throw ProfileError("class is empty", line: kl, file: file) }
            try check(pattern, line: pl)
            if let (src, sl) = r["source"] { try check(src, line: sl) }
            let title = r["title"]?.0 ?? titleOf(kind) ?? kind
            rules.append(Triage.Rule(kind: kind, title: title, pattern: pattern, source: r["source"]?.0))
        }
        func check(_ pattern: String, line: Int) throws {
            do { _ = try NSRegularExpression(pattern: pattern) } catch {
                throw ProfileError("not a regular expression: \(pattern)", line: line, file: file)
            }
        }
        var ruleStart = 0
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                try finish(ruleStart)
                switch line.replacingOccurrences(of: " ", with: "") {
                case "[triage]": section = "triage"
                case "[[triage.rule]]": section = "rule"; current = [:]; ruleStart = n
                default: throw ProfileError("unknown table \(line); perftop reads [triage] and [[triage.rule]]", line: n, file: file)
                }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw ProfileError("expected key = value", line: n, file: file) }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let valueText = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            switch section {
            case "triage":
                guard key == "replace" else { throw ProfileError("unknown key '\(key)' in [triage] (only replace)", line: n, file: file) }
                guard valueText == "true" || valueText == "false" else { throw ProfileError("replace must be true or false", line: n, file: file) }
                replace = valueText == "true"
            case "rule":
                guard ["class", "title", "pattern", "source"].contains(key) else {
                    throw ProfileError("unknown key '\(key)' in [[triage.rule]] (class, title, pattern, source)", line: n, file: file)
                }
                guard current?[key] == nil else { throw ProfileError("\(key) is given twice", line: n, file: file) }
                current?[key] = (try string(valueText, file: file, line: n), n)
            default:
                throw ProfileError("key '\(key)' outside a table; start with [triage] or [[triage.rule]]", line: n, file: file)
            }
        }
        try finish(ruleStart)
        return replace ? rules : rules + Triage.rules
    }

    /// A line without its `#` comment (a `#` inside a string stays).
    static func stripComment(_ s: String) -> String {
        var quote: Character? = nil
        var escaped = false
        for (i, c) in s.enumerated() {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
            } else if c == "\"" || c == "'" { quote = c } else if c == "#" { return String(s.prefix(i)) }
        }
        return s
    }

    /// A TOML basic string ("...", with \\ \" \t \n \uXXXX escapes) or literal string ('...').
    static func string(_ v: String, file: String, line: Int) throws -> String {
        if v.count >= 2 && v.hasPrefix("'") && v.hasSuffix("'") { return String(v.dropFirst().dropLast()) }
        guard v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") else {
            throw ProfileError("expected a string in quotes", line: line, file: file)
        }
        var out = ""
        var it = v.dropFirst().dropLast().makeIterator()
        while let c = it.next() {
            guard c == "\\" else { out.append(c); continue }
            switch it.next() {
            case "\\": out.append("\\")
            case "\"": out.append("\"")
            case "t": out.append("\t")
            case "n": out.append("\n")
            case "u":
                var hex = ""
                for _ in 0..<4 { if let h = it.next() { hex.append(h) } }
                guard let u = UInt32(hex, radix: 16), let sc = Unicode.Scalar(u) else {
                    throw ProfileError("bad \\u escape", line: line, file: file)
                }
                out.unicodeScalars.append(sc)
            default:
                throw ProfileError("unknown escape in a \"...\" string; use '...' for regexes with backslashes", line: line, file: file)
            }
        }
        return out
    }
}
