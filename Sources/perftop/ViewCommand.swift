import ArgumentParser
import Foundation
import ProfileModel
import TUI

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Open the interactive viewer (the default command).",
        discussion: "Press ? in the viewer for the keys. With --batch, the keys are applied without a terminal and the final screen is printed.")

    @OptionGroup var input: InputOptions

    @OptionGroup var screen: ViewerFlags

    @Flag(name: [.customShort("f"), .long], help: "Follow a growing file (like tail -F) and update as samples arrive.")
    var follow = false

    @Flag(help: "Open on the summary: what kind of slow it is (key 0 in the viewer).")
    var summary = false

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        var options = try screen.options(threadsMerged: input.threads == .merged, splitLines: input.lines)
        options.summary = summary
        _ = try screen.parsedKeys()
        let batch = screen.batch
        let interactive = !batch && isatty(1) != 0
        // A live stream: a pipe on standard input, or a followed file.
        if interactive && (follow || (input.file == "-" && !standardInputIsRegularFile())) {
            let source: LiveSource
            do { source = follow ? try FollowLiveSource(path: input.file) : FDLiveSource(fd: 0) }
            catch { throw fail(error, file: input.file) }
            try runLive(LiveIngest(source: source, name: input.file), name: input.file, options: options)
            return
        }
        let big = (FileSource.sizeOf(path: input.file) ?? 0) > 20_000_000
        if interactive && big { writeStderr("perftop: loading \(input.file.terminalSafe)...\n") }
        let p: Profile, m: Int
        do { (p, m) = try input.loadForViewer() } catch { throw fail(error, file: input.file) }
        options.metric = m
        if !batch && !interactive {
            // Only once the file has loaded: a file that fails to load prints just its error.
            writeStderr("perftop: standard output is not a terminal; printing the report instead.\n")
            let shown = options.threadsMerged ? p.mergingThreads() : p
            writeStdout(Report.text(input.lines ? shown : shown.mergingLines(), options: ReportOptions(metric: m)))
            return
        }
        let session = try screen.session(p, file: input.file, format: input.format, lines: input.lines)
        session.fullPaths = input.filters.transforms.showFullPaths
        try screen.run(session, options: options)
    }
}

func standardInputIsRegularFile() -> Bool {
    var st = stat()
    return fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}

/// The viewer on a live stream: ingestion on its own thread, the viewer on this one.
func runLive(_ ingest: LiveIngest, name: String, options: ViewerOptions) throws {
    var options = options
    options.initialView = .tree
    let empty = ProfileBuilder(format: "live", metrics: [ValueType("samples", "count")]).freeze(source: name)
    let session = Session(profile: empty, fileName: name)
    session.live = LiveStatus()
    ingest.start()
    try runViewer { try Viewer.run(session, options: options, live: ingest) }
    if case .error(let why) = ingest.snapshot().1.state {
        writeStderr("perftop: \(name.terminalSafe): \(why.terminalSafe)\n")
    }
}
