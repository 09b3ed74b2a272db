import Foundation

/// "What kind of slow is it?": each sample's weight goes to the class of the innermost frame
/// that matches a rule (a sleep inside a request handler is idle time, not handler time); a
/// stack that matches no rule is native or Python CPU by its leaf frame.
public struct Triage: Sendable {
    public struct Rule: Sendable, Equatable {
        public var kind: String
        public var title: String
        /// Matched against `NAME<TAB>FILE` of a frame.
        public var pattern: String
        /// Matched against the frame's source line, when the file can be read: samplers such as
        /// py-spy stop at the Python line that calls `time.sleep` or takes a lock.
        public var source: String? = nil
    }

    /// The built-in rule table, checked in this order at each frame. A pattern is matched
    /// against `NAME<TAB>FILE` of the frame. A config file (`TriageRules`) can put rules
    /// before these or replace them.
    public static let rules: [Rule] = [
        Rule(kind: "gc", title: "garbage collection", pattern: #"^(:?GC:?|gc\.collect|<GC>)\t|\tgc$"#),
        Rule(kind: "lock", title: "lock waits", pattern: #"(^|\.)(acquire|acquire_lock)\t|Condition\.wait|Event\.wait|Semaphore\.|(^|\.)(wait)\t.*threading\.py|_wait_for_tstate_lock|Thread\.join|Queue\.get|^get\t.*queue\.py|<method 'acquire' of"#,
             source: #"^\s*with\s+[\w.]*(lock|mutex|cond|sem)\w*\s*:|\.acquire\(|\.join\(\s*\)|\.wait\(|queue\.get\(|\bq\.get\("#),
        Rule(kind: "idle", title: "idle / waiting (sleep, select, I/O)", pattern: #"(^|\.)(sleep|select|poll|epoll|kqueue|recv|recv_into|recvfrom|accept|connect|readinto|sendall)\t|time\.sleep|selectors\.py|socket\.py|ssl\.py|<built-in method (time\.sleep|select|poll)|\bidle\b"#,
             source: #"\bsleep\(|\.recv(_into|from)?\(|\.accept\(|\.read(line|lines|into)?\(|\bselect\(|\.poll\(|urlopen\(|requests\.\w+\(|\.sendall\(|\.connect\(|create_connection\("#),
        Rule(kind: "import", title: "imports", pattern: #"importlib\._bootstrap|<frozen importlib|_find_and_load|\t<frozen "#),
        Rule(kind: "serialization", title: "serialization (json, pickle, copy)", pattern: #"json/|\tjson\b|JSONEncoder|JSONDecoder|pickle|marshal|copy\.py|deepcopy|dataclasses\.py|asdict|<built-in method _pickle"#),
        Rule(kind: "regex", title: "regular expressions", pattern: #"\bre/|sre_|\tre\.py|re\.Pattern|_sre\."#),
        Rule(kind: "logging", title: "logging", pattern: #"logging/"#),
    ]

    public struct Class: Sendable {
        public var kind: String
        public var title: String
        public var weight: Double
        /// Heaviest functions by the weight they contribute to this class.
        public var top: [(function: Int32, weight: Double)]
    }

    public var classes: [Class]
    /// The classified weight: the sum of the positive node weights, so no class is over 100%.
    public var total: Double
    /// The magnitude of the negative node weights (austin's memory mode records frees as
    /// negative sizes), left out of the classes and of `total`.
    public var negative: Double = 0
    /// Weight of samples left as Python CPU time whose leaf's source file could not be read,
    /// so the source rules (a line that sleeps, locks or reads) could not look at it; and
    /// those files, heaviest first.
    public var unreadSource: Double = 0
    public var unreadFiles: [String] = []
    /// True when per-sample facts the profiler recorded (Tachyon's GIL/CPU status bits,
    /// Scalene's native and system split) decided part of the classes before any frame rule.
    public var usesRecordedClasses = false

    /// The classes of stack leaves that match no rule. austin's `:INVALID:` frames are
    /// samples it failed to read (the last class), not native code.
    static let fallbackClasses = [("native", "native code and extensions"), ("python", "Python code on the CPU"), ("other", "other"),
                                  ("invalid", "sampling errors (unreadable stacks)")]

    public init(_ p: Profile, metric m: Int, sourceRoots: [String] = [], rules: [Rule] = Triage.rules) {
        let regexes = rules.map { try? NSRegularExpression(pattern: $0.pattern) }
        let sourceRegexes = rules.map { $0.source.flatMap { try? NSRegularExpression(pattern: $0) } }
        // One class per kind: several rules (the user's and the built-in ones) may share one.
        var kinds: [(kind: String, title: String)] = []
        var ruleClass: [Int] = []
        for r in rules {
            if let i = kinds.firstIndex(where: { $0.kind == r.kind }) { ruleClass.append(i) } else {
                ruleClass.append(kinds.count)
                kinds.append((r.kind, r.title))
            }
        }
        var fallback: [Int] = []
        for (kind, title) in Triage.fallbackClasses {
            if let i = kinds.firstIndex(where: { $0.kind == kind }) { fallback.append(i) } else {
                fallback.append(kinds.count)
                kinds.append((kind, title))
            }
        }
        var sources = [String: [String]?]()
        var unread = [String: Double]()
        func sourceLine(_ file: String?, _ line: Int?) -> String? {
            guard let file, let line, line >= 1 else { return nil }
            if sources[file] == nil { sources[file] = Triage.readSource(file, roots: sourceRoots) }
            guard let lines = sources[file] ?? nil, line <= lines.count else { return nil }
            return lines[line - 1]
        }
        var frameClass = [Int](repeating: -2, count: p.frames.frameCount)     // frame → class, -1 none, -2 not yet
        func classify(_ f: Int32) -> Int {
            if frameClass[Int(f)] != -2 { return frameClass[Int(f)] }
            let fr = p.frames.frame(f)
            let text = fr.name + "\t" + (fr.file ?? "")
            let range = NSRange(text.startIndex..., in: text)
            var c = -1
            for (i, r) in regexes.enumerated() where r?.firstMatch(in: text, range: range) != nil { c = ruleClass[i]; break }
            if c < 0, !p.estimatedTree, let src = sourceLine(fr.file, fr.line) {
                let r2 = NSRange(src.startIndex..., in: src)
                for (i, r) in sourceRegexes.enumerated() where r?.firstMatch(in: src, range: r2) != nil { c = ruleClass[i]; break }
            }
            frameClass[Int(f)] = c
            return c
        }
        // austin's full mode marks each sample idle or not: that part of a node's time is idle
        // whatever its frames say (the rules still classify the rest).
        let idleMetric = p.metrics.indices.first { $0 != m && p.metrics[$0].name == "idle" && p.metrics[$0].unit == p.metrics[m].unit }
        var idleClass = -1
        if idleMetric != nil {
            if let i = kinds.firstIndex(where: { $0.kind == "idle" }) { idleClass = i } else {
                idleClass = kinds.count
                kinds.append(("idle", Triage.rules.first { $0.kind == "idle" }!.title))
            }
        }
        // Recorded classes (TriageStatus.swift): each carves its share out of a node's weight.
        let (carves, recorded) = Triage.recordedClasses(p, metric: m)
        var carveClass: [Int] = []
        for c in carves {
            if let i = kinds.firstIndex(where: { $0.kind == c.kind }) { carveClass.append(i) } else {
                carveClass.append(kinds.count)
                kinds.append((c.kind, c.title))
            }
        }
        usesRecordedClasses = recorded
        var weight = [Double](repeating: 0, count: kinds.count)
        var neg = 0.0
        var byFunction = [[Int32: Double]](repeating: [:], count: weight.count)
        let t = p.tree
        // The class of each node's innermost matching frame (its own, else its parent's: parents
        // come first), in one pass: walking up from every weighted node, with the frames' classes
        // in a dictionary, was nearly all of the summary's time on a big tree.
        var innermost = [Int](repeating: -1, count: t.count)
        var invalid = [Bool](repeating: false, count: t.count)
        for n in 1..<max(t.count, 1) {
            let f = t.frame[n]
            let own = f >= 0 && !p.frames.frameKind[Int(f)].isGrouping ? classify(f) : -1
            innermost[n] = own >= 0 ? own : innermost[Int(t.parent[n])]
            invalid[n] = invalid[Int(t.parent[n])]
                || (f >= 0 && p.frames.frameKind[Int(f)] == .special && p.frames.name(ofFrame: f) == "INVALID")
        }
        // The root's own weight: samples with no frame at all (other, or idle when flagged).
        for n in 0..<t.count {
            var w = t.selfWeight[m][n]
            guard w > 0 else {
                if w < 0 { neg -= w }
                continue
            }
            for (k, c) in carves.enumerated() {
                let part = min(w, t.selfWeight[c.metric][n])
                guard part > 0 else { continue }
                // Off-CPU time may still be told apart by frames: a lock wait or a sleep.
                var cls = carveClass[k]
                if innermost[n] >= 0, c.refinedBy.contains(kinds[innermost[n]].kind) { cls = innermost[n] }
                weight[cls] += part
                let fn = t.frame[n] >= 0 ? p.frames.frameFunction[Int(t.frame[n])] : -1
                if fn >= 0 { byFunction[cls][fn, default: 0] += part }
                w -= part
            }
            if w <= 0 { continue }
            if let im = idleMetric {
                let idle = min(w, t.selfWeight[im][n])
                if idle > 0 {
                    weight[idleClass] += idle
                    let fn = t.frame[n] >= 0 ? p.frames.frameFunction[Int(t.frame[n])] : -1
                    if fn >= 0 { byFunction[idleClass][fn, default: 0] += idle }
                    w -= idle
                    if w == 0 { continue }
                }
            }
            var cls = innermost[n]
            let leaf = t.frame[n]
            if leaf < 0 {
                weight[fallback[2]] += w
                continue
            }
            if invalid[n] { cls = fallback[3] } else if cls < 0 {
                let fr = p.frames.frame(leaf)
                let native = fr.kind == .native || fr.name.hasPrefix("<built-in") || fr.name.hasPrefix("<method")
                    || (fr.file.map { !$0.hasSuffix(".py") && !$0.hasPrefix("<") } ?? true)
                cls = fallback[native ? 0 : fr.file?.hasSuffix(".py") == true ? 1 : 2]
                if cls == fallback[1], !p.estimatedTree, let file = fr.file, fr.line != nil, case .some(.none) = sources[file] {
                    unread[file, default: 0] += w
                }
            }
            weight[cls] += w
            let fn = p.frames.frameFunction[Int(leaf)]
            if fn >= 0 { byFunction[cls][fn, default: 0] += w }
        }
        total = weight.reduce(0, +)
        negative = neg
        unreadSource = unread.values.reduce(0, +)
        unreadFiles = unread.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        var out: [Class] = []
        for i in 0..<weight.count where weight[i] != 0 {
            let (kind, title) = kinds[i]
            let top = byFunction[i].sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3).map { (function: $0.key, weight: $0.value) }
            out.append(Class(kind: kind, title: title, weight: weight[i], top: top))
        }
        classes = out.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.kind < $1.kind }
    }

    /// The heaviest self-time function of the largest class, its hottest line and, when the
    /// source is at hand, a hint about what that line does.
    public struct LookHere: Sendable {
        public var function: Int32
        public var name: String
        public var file: String?
        public var line: Int?
        public var lineShare: Double
        public var source: String?
        public var hint: String?
    }

    public func lookHere(_ p: Profile, metric m: Int, sourceRoots: [String]) -> [LookHere] {
        guard let first = classes.first, let (fn, _) = first.top.first.map({ ($0.function, $0.weight) }) else { return [] }
        // Self weight per executing line of the function (frames carry the line).
        var perLine = [Int: Double]()
        var fnSelf = 0.0
        for n in p.functions.nodes(of: fn) {
            let w = p.tree.selfWeight[m][Int(n)]
            fnSelf += w
            if let l = p.frames.line(ofFrame: p.tree.frame[Int(n)]) { perLine[l, default: 0] += w }
        }
        let hot = perLine.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }
        let file = p.frames.file(ofFunction: fn)
        // Call-graph formats record the definition line, not where the time went.
        let executing = !p.estimatedTree
        var item = LookHere(function: fn, name: p.frames.name(ofFunction: fn), file: file,
                            line: executing ? (hot?.key ?? p.frames.line(ofFunction: fn)) : p.frames.line(ofFunction: fn),
                            lineShare: executing && fnSelf > 0 ? (hot?.value ?? 0) / fnSelf : 0, source: nil, hint: nil)
        if executing, let file, let line = item.line, let lines = Triage.readSource(file, roots: sourceRoots), line >= 1, line <= lines.count {
            item.source = lines[line - 1]
            item.hint = Triage.hint(lines: lines, line: line)
        }
        return [item]
    }

    /// The lines of a recorded source file, looked up as recorded and under each root.
    public static func sourceLines(_ file: String, roots: [String]) -> [String]? { readSource(file, roots: roots) }

    /// `--path-map FROM=TO` rules: a recorded path starting with FROM is read from TO instead
    /// (profiles taken in a container or on another machine). Entries of `roots` that contain
    /// `=` are such rules.
    static func mapped(_ file: String, _ roots: [String]) -> [String] {
        roots.compactMap { r in
            guard let eq = r.firstIndex(of: "=") else { return nil }
            let from = String(r[..<eq]), to = String(r[r.index(after: eq)...])
            return !from.isEmpty && file.hasPrefix(from) ? to + file.dropFirst(from.count) : nil
        }
    }

    /// Where a recorded file is read from: `--path-map` rules first, then as recorded, then
    /// under each root.
    static func candidates(_ file: String, roots: [String]) -> [String] {
        var out = mapped(file, roots) + [file]
        for r in roots where !r.contains("=") { out.append((r as NSString).appendingPathComponent(file)) }
        return out
    }

    /// The first candidate path of a recorded file that is a readable regular file.
    public static func sourcePath(_ file: String, roots: [String]) -> String? {
        candidates(file, roots: roots).first { c in
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: c, isDirectory: &isDir) && !isDir.boolValue
                && FileManager.default.isReadableFile(atPath: c)
        }
    }

    static func readSource(_ file: String, roots: [String]) -> [String]? {
        for c in candidates(file, roots: roots) {
            if let text = try? String(contentsOfFile: c, encoding: .utf8) {
                return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            }
        }
        return nil
    }

    /// A membership test (`x in y`, not `for x in y`) inside a loop: with a list, every test is
    /// a scan.
    static func hint(lines: [String], line: Int) -> String? {
        let text = lines[line - 1]
        let code = text.trimmingCharacters(in: .whitespaces)
        guard code.range(of: #"\bin\b"#, options: .regularExpression) != nil, !code.hasPrefix("for ") else { return nil }
        let indent = text.prefix { $0 == " " || $0 == "\t" }.count
        var i = line - 2
        while i >= 0 {
            let l = lines[i]
            let t = l.trimmingCharacters(in: .whitespaces)
            let ind = l.prefix { $0 == " " || $0 == "\t" }.count
            if !t.isEmpty && ind < indent {
                if t.hasPrefix("for ") || t.hasPrefix("while ") {
                    return "a membership test (`in`) inside a loop: if the container is a list, every test scans it; a set or dict makes it O(1)"
                }
                if t.hasPrefix("def ") || t.hasPrefix("class ") { return nil }
            }
            i -= 1
        }
        return nil
    }
}

extension Triage {
    public func text(_ p: Profile, metric m: Int, look: [LookHere], ascii: Bool) -> String {
        let basis = !usesRecordedClasses ? "each sample goes to its innermost matching frame"
            : p.format == ScaleneReader.name ? "Scalene's native and system time first, then each line's innermost matching frame"
            : "each sample's CPU/GIL status bits first, then its innermost matching frame"
        var out = "Summary: where the time went, by kind (\(basis))\n"
        let unit = p.metrics[m].unit
        for c in classes {
            let share = total > 0 ? min(max(c.weight / total, 0), 1) : 0
            let filled = Int((share * 20).rounded())
            let bar = String(repeating: ascii ? "#" : "█", count: filled) + String(repeating: ascii ? "." : "░", count: 20 - filled)
            let top = c.top.map { p.frames.name(ofFunction: $0.function).terminalSafe + " " + ValueFormat.percent($0.weight, of: total) }
                .joined(separator: ", ")
            let title = c.title.count < 36 ? c.title + String(repeating: " ", count: 36 - c.title.count) : c.title
            out += "  \(title) \(ValueFormat.percent(c.weight, of: total).leftPadded(6))  \(bar)  \(top)\n"
        }
        out += "  (total \(ValueFormat.withUnit(total, unit: unit)))\n"
        if usesRecordedClasses, let x = Triage.exceptionWeight(p), x > 0 {
            out += "  (\(ValueFormat.percent(x, of: total)) of the samples were handling an exception: metric `exception`, key m)\n"
        }
        if unreadSource > 0, let file = unreadFiles.first {
            out += "  (\(ValueFormat.percent(unreadSource, of: total)) is Python code whose source could not be read (such as \(file.terminalSafe)),\n"
            out += "   so the rules could not see whether its lines sleep, lock or wait: pass --source-root DIR or --path-map FROM=TO)\n"
        }
        if negative > 0 {
            out += "  (negative weights of \(ValueFormat.withUnit(negative, unit: unit)) left out: frees, for a memory profile)\n"
        }
        for l in look {
            out += "\nLook here first: \(l.name.terminalSafe)"
            if let f = l.file { out += "  \(f.terminalSafe)" + (l.line.map { ":\($0)" } ?? "") }
            if l.lineShare > 0 { out += "  (\(ValueFormat.fixed(l.lineShare * 100, 0))% of its own time is on this line)" }
            else if p.estimatedTree { out += "  (defined here; this format records no executing lines)" }
            out += "\n"
            if let s = l.source, let line = l.line { out += "  \(line) | \(s.terminalSafe)\n" }
            if let h = l.hint { out += "  hint: \(h)\n" }
        }
        return out
    }

    public func json(_ p: Profile, metric m: Int, look: [LookHere]) -> String {
        var w = JSONWriter()
        w.open("{")
        w.key("metric"); w.string(p.metrics[m].name)
        w.key("unit"); w.string(p.metrics[m].unit)
        w.key("total"); w.number(total)
        w.key("negative"); w.number(negative)
        w.key("unread_source"); w.number(unreadSource)
        w.key("recorded_classes"); w.bool(usesRecordedClasses)
        w.key("unread_files"); w.open("[")
        for f in unreadFiles { w.string(f) }
        w.close("]")
        w.key("classes"); w.open("[")
        for c in classes {
            w.open("{")
            w.key("kind"); w.string(c.kind); w.key("title"); w.string(c.title)
            w.key("weight"); w.number(c.weight); w.key("share"); w.number(total > 0 ? c.weight / total : 0)
            w.key("top"); w.open("[")
            for t in c.top {
                w.open("{"); w.key("name"); w.string(p.frames.name(ofFunction: t.function))
                w.key("file"); if let f = p.frames.file(ofFunction: t.function) { w.string(f) } else { w.null() }
                w.key("weight"); w.number(t.weight); w.close("}")
            }
            w.close("]")
            w.close("}")
        }
        w.close("]")
        w.key("look_here"); w.open("[")
        for l in look {
            w.open("{")
            w.key("name"); w.string(l.name)
            w.key("file"); if let f = l.file { w.string(f) } else { w.null() }
            w.key("line"); if let x = l.line { w.number(Double(x)) } else { w.null() }
            w.key("line_share"); w.number(l.lineShare)
            w.key("source"); if let s = l.source { w.string(s) } else { w.null() }
            w.key("hint"); if let h = l.hint { w.string(h) } else { w.null() }
            w.close("}")
        }
        w.close("]")
        w.close("}")
        return w.out + "\n"
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
