import Foundation
import ProfileModel

/// The user's settings from `$XDG_CONFIG_HOME/perftop/config.toml` (`~/.config/...`):
///
///     [viewer]
///     theme = "light"        # dark (default), light (a light terminal background) or mono
///     view = "functions"     # the view to open: functions, tree, callers, inverted, flame
///     sort = "self"          # the functions table's sort: total, self, calls, name
///     mouse = false          # clicks and the wheel (default true)
///     paths = "full"         # short (default) or full file paths
///     editor = "code -g"     # the command `e` runs, before $EDITOR
///
/// The same file holds the triage rules ([triage], [[triage.rule]]), which `TriageRules`
/// reads; this reader takes the [viewer] table and hands it the rest. An unknown key is
/// `FILE:LINE: unknown key ...` and exit status 2, so that a typo never goes unnoticed.
struct Config: Equatable {
    var theme: String? = nil
    var view: String? = nil
    var sort: SortKey? = nil
    var mouse: Bool? = nil
    var fullPaths: Bool? = nil
    var editor: String? = nil

    static let themes = ["dark", "light", "mono"]
    static let views = ["functions", "tree", "callers", "inverted", "flame"]
    static let keys = ["theme", "view", "sort", "mouse", "paths", "editor"]

    /// The config file's path (it may not exist).
    static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
        return base + "/perftop/config.toml"
    }

    /// The settings in `text`, and the text with the [viewer] table blanked out (line numbers
    /// kept) for the triage rules' reader.
    static func parse(_ text: String, file: String) throws -> (Config, rest: String) {
        var c = Config()
        var inViewer = false
        var seen = Set<String>()
        var rest: [String] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            let line = uncommented(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                inViewer = line.replacingOccurrences(of: " ", with: "") == "[viewer]"
                rest.append(inViewer ? "" : String(raw))
                continue
            }
            guard inViewer else { rest.append(String(raw)); continue }
            rest.append("")
            if line.isEmpty { continue }
            guard let eq = line.firstIndex(of: "=") else { throw ProfileError("expected key = value", line: n, file: file) }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard keys.contains(key) else {
                throw ProfileError("unknown key '\(key)' in [viewer] (perftop reads \(keys.joined(separator: ", ")))", line: n, file: file)
            }
            guard seen.insert(key).inserted else { throw ProfileError("\(key) is given twice", line: n, file: file) }
            func oneOf(_ allowed: [String]) throws -> String {
                let v = try string(value, line: n, file: file)
                guard allowed.contains(v) else {
                    throw ProfileError("\(key) must be \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), not \"\(v)\"", line: n, file: file)
                }
                return v
            }
            switch key {
            case "theme": c.theme = try oneOf(themes)
            case "view": c.view = try oneOf(views)
            case "sort": c.sort = SortKey(rawValue: try oneOf(SortKey.allCases.map(\.rawValue)))
            case "paths": c.fullPaths = try oneOf(["short", "full"]) == "full"
            case "editor":
                let v = try string(value, line: n, file: file)
                guard !v.trimmingCharacters(in: .whitespaces).isEmpty else { throw ProfileError("editor is empty", line: n, file: file) }
                c.editor = v
            default:
                guard value == "true" || value == "false" else { throw ProfileError("\(key) must be true or false", line: n, file: file) }
                c.mouse = value == "true"
            }
        }
        return (c, rest.joined(separator: "\n"))
    }

    /// A line without its `#` comment (a `#` inside a string stays).
    static func uncommented(_ s: String) -> String {
        var quote: Character? = nil, escaped = false
        for (i, ch) in s.enumerated() {
            if let q = quote {
                if escaped { escaped = false } else if ch == "\\" && q == "\"" { escaped = true } else if ch == q { quote = nil }
            } else if ch == "\"" || ch == "'" { quote = ch } else if ch == "#" { return String(s.prefix(i)) }
        }
        return s
    }

    /// A TOML literal string ('...') or basic string ("..." with \\ \" \t escapes).
    static func string(_ v: String, line: Int, file: String) throws -> String {
        if v.count >= 2 && v.hasPrefix("'") && v.hasSuffix("'") { return String(v.dropFirst().dropLast()) }
        guard v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") else { throw ProfileError("expected a string in quotes", line: line, file: file) }
        var out = "", escaped = false
        for ch in v.dropFirst().dropLast() {
            if escaped {
                switch ch {
                case "\\", "\"": out.append(ch)
                case "t": out.append("\t")
                default: throw ProfileError("unknown escape \\\(ch) in a \"...\" string", line: line, file: file)
                }
                escaped = false
            } else if ch == "\\" { escaped = true } else { out.append(ch) }
        }
        return out
    }
}

/// The config file, read once per run. `validate()` of the option groups loads it, so a bad
/// file fails before anything else happens.
enum UserConfig {
    nonisolated(unsafe) private static var cached: (Config, rest: String?, path: String)?

    /// The settings, and the file's text for the triage rules (nil: no file).
    static func load() throws -> (Config, rest: String?, path: String) {
        if let cached { return cached }
        let path = Config.path()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
            cached = (Config(), nil, path)
            return cached!
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20,
              let text = String(data: data, encoding: .utf8) else {
            throw ProfileError("cannot read the config file (or it is over 1 MiB, or not UTF-8)", file: path)
        }
        let (c, rest) = try Config.parse(text, file: path)
        cached = (c, rest, path)
        return cached!
    }

    /// The settings; a bad file has been reported by `validate()` already.
    static var settings: Config { (try? load().0) ?? Config() }

    /// Loads the file for `validate()`: a bad one prints its located error and exits 2.
    static func check() throws {
        do { _ = try load() } catch { throw fail(error, file: Config.path()) }
    }
}
