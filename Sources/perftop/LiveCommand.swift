import ArgumentParser
import Foundation
import ProfileModel
import TUI

/// `perftop live -- austin -i 1ms python app.py`: runs the sampler and views its output live.
struct LiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Run a sampler (austin, or anything printing folded lines) and view its output as it arrives.",
        discussion: "The sampler's standard output is read live (austin text or MOJO, or folded lines); its standard error is shown when perftop exits. Quitting stops the sampler.")

    @OptionGroup var draw: DrawOptions

    @Argument(parsing: .postTerminator, help: "The command to run, after --.")
    var command: [String] = []

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        guard !argv.isEmpty else { throw ValidationError("give the sampler to run after --, e.g. perftop live -- austin python app.py") }
        guard isatty(1) != 0 else { throw ValidationError("perftop live needs a terminal") }
        let sampler: SamplerProcess
        do { sampler = try SamplerProcess(argv) } catch { throw fail(error, file: argv[0]) }
        let name = argv.joined(separator: " ")
        let ingest = LiveIngest(source: FDLiveSource(fd: sampler.outputFD), name: name)
        ingest.note("running \(argv[0].terminalSafe), pid \(sampler.pid)")
        sampler.reap { how in ingest.note("pid \(sampler.pid) \(how)") }
        defer {
            sampler.stop()
            writeStderr("perftop: \(name.terminalSafe) (pid \(sampler.pid)) \(sampler.exited ?? "did not stop")\n")
            let tail = sampler.takeStandardErrorTail()
            if !tail.isEmpty {
                let safe = tail.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).terminalSafe }
                writeStderr("perftop: its standard error ends with:\n" + safe.joined(separator: "\n") + "\n")
            }
        }
        try runLive(ingest, name: name, options: draw.viewerOptions())
    }
}
