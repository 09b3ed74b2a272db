import ArgumentParser
import Foundation
import ProfileModel

/// The transforms of the viewer's stack as options (report, convert, diff and view), so the
/// screen and the scripts agree. They apply in command-line order, with --focus and --hide.
struct TransformOptions: ParsableArguments {
    @Flag(help: "Collapse recursion: a call of a function already on the stack goes back to the outer call (f;g;f;h becomes f;h).")
    var collapseRecursion = false

    @Flag(help: "Collapse direct recursion: f;f;f becomes f.")
    var collapseDirectRecursion = false

    @Option(help: ArgumentHelp("Join each run of frames into one: stdlib, site-packages, importlib, or frames whose name or file matches a regex (repeatable).", valueName: "rule"))
    var collapse: [String] = []

    @Option(help: ArgumentHelp("Drop every sample whose stack passes through a function whose name or file matches (repeatable).", valueName: "regex"))
    var drop: [String] = []

    @Option(help: ArgumentHelp("Keep only the stacks of one call path from the root, re-rooted at its last function (repeatable).", valueName: "a;b;c"))
    var focusSubtree: [String] = []

    @Flag(help: "Show file paths in full (by default standard-library and site-packages files are module-relative and the project's common directory is left out).")
    var fullPaths = false

    /// Full paths when asked for here or by the config's `paths = "full"`.
    var showFullPaths: Bool { fullPaths || (UserConfig.settings.fullPaths ?? false) }

    /// One option as given.
    enum Step: Equatable {
        case focus(String), hide(String), collapse(String), drop(String), focusSubtree(String)
        case collapseRecursion, collapseDirectRecursion
    }

    /// The options with a value, and the step each makes.
    static func valued(_ name: String, _ v: String) -> Step? {
        switch name {
        case "--focus": .focus(v)
        case "--hide": .hide(v)
        case "--collapse": .collapse(v)
        case "--drop": .drop(v)
        case "--focus-subtree": .focusSubtree(v)
        default: nil
        }
    }
    static let valuedNames = ["--focus", "--hide", "--collapse", "--drop", "--focus-subtree"]

    /// The steps in the order of `arguments` (the command line); when that order cannot be
    /// matched with what was parsed, hide, focus, then the others in the order of this list.
    func steps(focus: String?, hide: String?, arguments: [String] = CommandLine.arguments) -> [Step] {
        var parsed: [Step] = []
        if let hide { parsed.append(.hide(hide)) }
        if let focus { parsed.append(.focus(focus)) }
        parsed += collapse.map(Step.collapse) + drop.map(Step.drop) + focusSubtree.map(Step.focusSubtree)
        if collapseDirectRecursion { parsed.append(.collapseDirectRecursion) }
        if collapseRecursion { parsed.append(.collapseRecursion) }

        var ordered: [Step] = []
        var i = arguments.startIndex
        while i < arguments.endIndex, arguments[i] != "--" {
            let a = arguments[i]
            i += 1
            if a == "--collapse-recursion" { ordered.append(.collapseRecursion); continue }
            if a == "--collapse-direct-recursion" { ordered.append(.collapseDirectRecursion); continue }
            for name in Self.valuedNames {
                if a == name, i < arguments.endIndex { ordered += [Self.valued(name, arguments[i])!]; i += 1; break }
                if a.hasPrefix(name + "=") { ordered += [Self.valued(name, String(a.dropFirst(name.count + 1)))!]; break }
            }
        }
        // The last --focus or --hide is the one parsed.
        func lastOnly(_ s: [Step]) -> [Step] {
            var out: [Step] = []
            var seenFocus = false, seenHide = false
            for st in s.reversed() {
                if case .focus = st { if seenFocus { continue }; seenFocus = true }
                if case .hide = st { if seenHide { continue }; seenHide = true }
                out.append(st)
            }
            return out.reversed()
        }
        let o = lastOnly(ordered)
        let sameSteps = o.count == parsed.count && o.allSatisfy { s in parsed.contains(s) }
            && parsed.allSatisfy { s in o.filter { $0 == s }.count == parsed.filter { $0 == s }.count }
        return sameSteps ? o : parsed
    }

    /// `p` with the steps applied in order.
    func apply(_ p: Profile, focus: String?, hide: String?, file: String) throws -> Profile {
        var p = p
        for step in steps(focus: focus, hide: hide) {
            switch step {
            case .hide(let r): p = p.hiding(try matching(p, r, "--hide"))
            case .focus(let r):
                let fns = try matching(p, r, "--focus")
                guard !fns.isEmpty else { throw ProfileError("--focus '\(r)' matches no function", file: file) }
                p = p.focused(onAny: fns)
            case .drop(let r): p = p.dropping(try matching(p, r, "--drop"))
            case .collapse(let r):
                do { p = try p.collapsingFrames(CollapseRule.parse(r)) } catch let e as ProfileError { throw e.at(file: file) }
            case .focusSubtree(let path):
                let names = path.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                do { p = try p.focused(onSubtreeNamed: names) } catch let e as ProfileError { throw e.at(file: file) }
            case .collapseRecursion: p = p.collapsingRecursion()
            case .collapseDirectRecursion: p = p.collapsingDirectRecursion()
            }
        }
        return p

        func matching(_ p: Profile, _ r: String, _ option: String) throws -> Set<Int32> {
            do { return try p.functions(matching: r) } catch {
                throw ProfileError("\(option) '\(r)': not a regular expression", file: file)
            }
        }
    }
}
