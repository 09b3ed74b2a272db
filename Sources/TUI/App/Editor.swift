import Foundation

/// `e`: runs `$EDITOR` (default `vi`) on a file at a line, the way git runs its editor: through
/// `sh -c '$EDITOR "$@"'`, so an editor with arguments (`EDITOR="emacs -nw"`) works and the
/// file name is never parsed by the shell.
public enum Editor {
    /// The command line, for the status line and for tests. `editor` (config.toml's) comes
    /// before $EDITOR.
    public static func command(for t: EditTarget, editor configured: String? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        func given(_ e: String?) -> String? { e.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        let editor = given(configured) ?? given(environment["EDITOR"]) ?? "vi"
        return ["/bin/sh", "-c", editor + " \"$@\"", "perftop-editor"] + (t.line.map { ["+\($0)"] } ?? []) + [t.path]
    }

    /// Runs the editor on the controlling terminal and waits for it. Returns a message when
    /// it could not be run or failed.
    public static func run(_ t: EditTarget, editor: String? = nil) -> String? {
        let argv = command(for: t, editor: editor)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Standard input may be a live stream: the editor gets the terminal on all three.
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_addopen(&actions, fd, "/dev/tty", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // The child gets default signal handling back (we ignore SIGINT while it runs).
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGQUIT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attr, cargs, environ)
        guard rc == 0 else { return "cannot run the editor: \(String(cString: strerror(rc)))" }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7F == 0 && (status >> 8) & 0xFF == 127 { return "the editor was not found (\(editor == nil ? "EDITOR=" : "editor = ")\(argv[2].dropLast(5)))" }
        return nil
    }
}
