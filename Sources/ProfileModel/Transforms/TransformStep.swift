/// One step of a transform stack. Frame and function ids are ids in the profile the step is
/// applied to (the result of the steps before it), so a stack is replayed in order from the
/// original profile. Every step makes a new profile; none edits the one it is applied to, so
/// undo is keeping the previous profile.
public enum TransformStep: Hashable, Sendable {
    /// Only the stacks through the function (the viewer's `f`, `--focus`).
    case focusFunction(Int32)
    /// Only this node's stacks (frame ids root -> node), re-rooted at the node; thread and
    /// process frames above it stay as roots.
    case focusSubtree(path: [Int32])
    /// The function's frames disappear, their self time goes to the caller (the viewer's `x`).
    case merge(Int32)
    /// Every sample whose stack passes through the function is dropped (totals shrink).
    case drop(Int32)
    /// `f -> f -> f` becomes one `f` (nil: every function).
    case collapseDirectRecursion(Int32?)
    /// `f -> g -> f -> h` becomes `f -> h`: an inner call of a function already on the stack
    /// goes back to its outer node (nil: every function), as Firefox Profiler's "collapse recursion".
    case collapseRecursion(Int32?)
    /// Each run of consecutive frames matching the rule becomes one frame named by the rule.
    case collapseFrames(CollapseRule)
}

/// Which frames `collapseFrames` joins.
public enum CollapseRule: Hashable, Sendable {
    /// Python's standard library (files under `lib/pythonX.Y/`, not site-packages): one frame
    /// per top-level module, e.g. `<stdlib json>`.
    case stdlib
    /// Installed packages (`site-packages`, `dist-packages`): one frame per package.
    case sitePackages
    /// `<frozen importlib._bootstrap>` and friends: one `<frozen importlib>` frame.
    case frozenImportlib
    /// Frames whose name or file matches the regular expression (smart case, as `--focus`).
    case regex(String)
}

extension CollapseRule {
    public var label: String {
        switch self {
        case .stdlib: "stdlib"
        case .sitePackages: "site-packages"
        case .frozenImportlib: "importlib"
        case .regex(let r): "/\(r)/"
        }
    }

    /// The rule for a CLI argument: a preset name, else a regular expression.
    public static func parse(_ s: String) -> CollapseRule {
        switch s {
        case "stdlib": .stdlib
        case "site-packages", "site", "sitepackages": .sitePackages
        case "importlib", "frozen-importlib": .frozenImportlib
        default: .regex(s)
        }
    }
}

extension TransformStep {
    /// The breadcrumb text: "focus: run_batch", "collapse recursion", "merge: deepcopy".
    public func label(in p: Profile) -> String {
        func fname(_ fn: Int32) -> String {
            fn >= 0 && Int(fn) < p.frames.functionCount ? p.frames.name(ofFunction: fn) : "?"
        }
        switch self {
        case .focusFunction(let fn): return "focus: \(fname(fn))"
        case .focusSubtree(let path):
            guard let last = path.last, last >= 0, Int(last) < p.frames.frameCount else { return "focus subtree" }
            return "focus subtree: \(p.frames.name(ofFrame: last))"
        case .merge(let fn): return "merge: \(fname(fn))"
        case .drop(let fn): return "drop: \(fname(fn))"
        case .collapseDirectRecursion(let fn):
            return fn.map { "collapse direct recursion: \(fname($0))" } ?? "collapse direct recursion"
        case .collapseRecursion(let fn):
            return fn.map { "collapse recursion: \(fname($0))" } ?? "collapse recursion"
        case .collapseFrames(let rule): return "collapse: \(rule.label)"
        }
    }
}

extension Profile {
    /// The profile with `step` applied (a new profile). Throws a ProfileError for a bad regular
    /// expression or an id this profile doesn't have.
    public func applying(_ step: TransformStep) throws -> Profile {
        func check(_ fn: Int32?) throws {
            if let fn, fn < 0 || Int(fn) >= frames.functionCount {
                throw ProfileError("transform: no function #\(fn) in this profile")
            }
        }
        switch step {
        case .focusFunction(let fn): try check(fn); return focused(on: fn)
        case .merge(let fn): try check(fn); return hiding([fn])
        case .drop(let fn): try check(fn); return dropping([fn])
        case .focusSubtree(let path): return try focused(onSubtree: path)
        case .collapseDirectRecursion(let fn): try check(fn); return collapsingDirectRecursion(fn.map { [$0] })
        case .collapseRecursion(let fn): try check(fn); return collapsingRecursion(fn.map { [$0] })
        case .collapseFrames(let rule): return try collapsingFrames(rule)
        }
    }

    /// The steps applied in order, each to the result of the one before.
    public func applying(_ steps: [TransformStep]) throws -> Profile {
        var p = self
        for s in steps { p = try p.applying(s) }
        return p
    }
}
