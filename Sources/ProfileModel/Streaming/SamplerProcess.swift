import Foundation

/// A sampler run as a child process (`perftop live -- austin ...`): its standard output is a
/// pipe for a live source, its standard error goes to a temporary file shown when perftop exits,
/// and a thread reaps it so the status line can say how it ended.
public final class SamplerProcess: @unchecked Sendable {
    public let pid: pid_t
    /// The read end of the sampler's standard output.
    public let outputFD: Int32
    public let argv: [String]
    private let stderrPath: String
    private let lock = NSLock()
    private var exitDescription: String?

    /// Starts `argv` (found on PATH). Throws a ProfileError when it cannot be started.
    public init(_ argv: [String]) throws {
        precondition(!argv.isEmpty)
        self.argv = argv
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ProfileError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        var errPath = Array("/tmp/perftop-live-stderr-XXXXXX".utf8CString)
        let errFD = mkstemp(&errPath)
        stderrPath = errPath.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if errFD >= 0 { posix_spawn_file_actions_adddup2(&actions, errFD, 2) }
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ)
        close(fds[1])
        if errFD >= 0 { close(errFD) }
        guard rc == 0 else {
            close(fds[0])
            unlink(stderrPath)
            throw ProfileError("cannot be started: \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        outputFD = fds[0]
    }

    /// Reaps the sampler on a thread of its own; `onExit` gets how it ended.
    public func reap(onExit: @escaping @Sendable (String) -> Void) {
        let pid = self.pid
        Thread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let how = status & 0x7F == 0 ? "exited with status \((status >> 8) & 0xFF)" : "ended by signal \(status & 0x7F)"
            lock.lock(); exitDescription = how; lock.unlock()
            onExit(how)
        }.start()
    }

    /// How it ended, once the reaper has seen it.
    public var exited: String? { lock.lock(); defer { lock.unlock() }; return exitDescription }

    /// Stops the sampler if it still runs: SIGTERM, then SIGKILL after a second.
    public func stop() {
        for sig in [SIGTERM, SIGKILL] where exited == nil {
            kill(pid, sig)
            for _ in 0..<20 where exited == nil { usleep(50_000) }
        }
    }

    /// The last lines of its standard error (the temporary file is removed).
    public func takeStandardErrorTail(lines: Int = 20) -> String {
        defer { unlink(stderrPath) }
        guard let text = try? String(contentsOfFile: stderrPath, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
