/// Short file names for display: `<pyenv>/versions/3.11.7/lib/python3.11/json/encoder.py`
/// eats a row, `json/encoder.py` names the same file. A pure function of the profile's files:
/// standard-library files are shown module-relative, installed packages as `pkg/mod.py`, and
/// the project's files without their common directory. The full path stays in detail lines
/// and JSON; `--full-paths` shows it everywhere.
public struct DisplayPath: Sendable, Equatable {
    /// What a file is, judged from its path alone.
    public enum Kind: Equatable, Sendable {
        /// Under `lib/pythonX.Y/` (not in site-packages): the path relative to it.
        case stdlib(String)
        /// Under `site-packages/` or `dist-packages/`: the path relative to it.
        case sitePackages(String)
        /// Anything else (the project's files, native libraries, `<frozen ...>` names).
        case other
    }

    /// The common directory of the project's absolute files, with its trailing `/`, or "".
    public let projectPrefix: String
    /// False: `short` returns paths as they are (`--full-paths`).
    public let enabled: Bool

    public init(files: some Sequence<String>, enabled: Bool = true) {
        self.enabled = enabled
        var common: [Substring]? = nil
        for f in files where f.hasPrefix("/") {
            guard case .other = DisplayPath.classify(f) else { continue }
            let dirs = f.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            if let c = common {
                var k = 0
                while k < c.count && k < dirs.count && c[k] == dirs[dirs.startIndex + k] { k += 1 }
                common = Array(c.prefix(k))
            } else {
                common = Array(dirs)
            }
            if common!.count <= 1 { break }
        }
        // `common` starts with the empty component before the leading `/`: a prefix of just "/"
        // tells nothing worth stripping.
        if let c = common, c.count > 1 { projectPrefix = c.joined(separator: "/") + "/" } else { projectPrefix = "" }
    }

    /// For the files of a profile's functions.
    public init(profile p: Profile, enabled: Bool = true) {
        // Each file once, by its string id: a file names many functions (100k in a big pstats
        // file), and only its first needs a String.
        let ft = p.frames
        var seen = [Bool](repeating: false, count: ft.strings.count)
        var files: [String] = []
        for id in ft.functionFile where id >= 0 && !seen[Int(id)] {
            seen[Int(id)] = true
            files.append(ft.strings.string(id))
        }
        self.init(files: files, enabled: enabled)
    }

    /// The short form of `file`.
    public func short(_ file: String) -> String {
        guard enabled else { return file }
        switch DisplayPath.classify(file) {
        case .stdlib(let rel), .sitePackages(let rel): return rel
        case .other:
            if !projectPrefix.isEmpty && file.hasPrefix(projectPrefix) && file.count > projectPrefix.count {
                return String(file.dropFirst(projectPrefix.count))
            }
            return file
        }
    }

    /// Classifies a path: `.../lib/python3.11/json/encoder.py` is `.stdlib("json/encoder.py")`,
    /// `.../site-packages/numpy/core/x.py` (or `dist-packages`) is `.sitePackages("numpy/core/x.py")`.
    /// Windows `...\Lib\json\encoder.py` and `...\Lib\site-packages\...` too.
    public static func classify(_ file: String) -> Kind {
        let parts = file.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" })
        guard parts.count >= 2 else { return .other }
        // The last site-packages wins (a venv inside a project inside ... still names its package).
        for k in stride(from: parts.count - 2, through: 0, by: -1)
        where parts[k] == "site-packages" || parts[k] == "dist-packages" {
            return .sitePackages(parts[(k + 1)...].joined(separator: "/"))
        }
        for k in stride(from: parts.count - 2, through: 0, by: -1) where isStdlibDir(parts, k) {
            var rest = parts[(k + 1)...]
            if rest.first == "lib-dynload" && rest.count > 1 { rest = rest.dropFirst() }
            return .stdlib(rest.joined(separator: "/"))
        }
        return .other
    }

    /// `lib/python3.11` (or `python3.13t`, `python3`, `lib64/...`), or Windows `<prefix>\Lib`.
    private static func isStdlibDir(_ parts: [Substring], _ k: Int) -> Bool {
        let d = parts[k]
        if k >= 1 && (parts[k - 1] == "lib" || parts[k - 1] == "lib64") && d.hasPrefix("python") {
            let v = d.dropFirst("python".count)
            return !v.isEmpty && v.allSatisfy { $0.isNumber || $0 == "." || $0 == "t" } && v.first!.isNumber
        }
        return d == "Lib" && k >= 1 && parts[0].hasSuffix(":")
    }

    /// The top-level module of a module-relative path: `json/encoder.py` -> `json`,
    /// `dataclasses.py` -> `dataclasses`, `_json.cpython-311-x86_64-linux-gnu.so` -> `_json`.
    public static func topModule(_ rel: String) -> String {
        let first = rel.split(separator: "/").first.map(String.init) ?? rel
        if let dot = first.firstIndex(of: ".") { return String(first[..<dot]) }
        return first
    }

    /// `<frozen importlib._bootstrap>`, `<frozen importlib._bootstrap_external>` (CPython's
    /// frozen import machinery, as py-spy, austin and cProfile name its file).
    public static func isFrozenImportlib(_ s: String) -> Bool {
        s.hasPrefix("<frozen importlib")
    }
}
