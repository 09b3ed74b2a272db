import ArgumentParser
import Foundation
import ProfileModel

/// `perftop convert FILE --to collapsed|speedscope|pprof -o OUT`
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write the profile (after --focus, --hide and --metric) as collapsed stacks, speedscope JSON or pprof.")

    @OptionGroup var input: InputOptions

    @Option(help: ArgumentHelp("collapsed (flamegraph.pl, inferno), speedscope or pprof (raw profile.proto).", valueName: "format"))
    var to: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write ('-' for standard output; the default unless it is a terminal).", valueName: "file"))
    var output: String?

    func run() throws {
        signal(SIGPIPE, SIG_DFL)
        guard let target = Exporter.Target(rawValue: to) else {
            throw ValidationError("--to must be collapsed, speedscope or pprof")
        }
        // A profile holds names from the input file, and pprof is binary: as gzip does, say so
        // rather than write them to a terminal unless asked to with `-o -`.
        if output == nil && isatty(1) != 0 {
            writeStderr("perftop: not writing a profile to a terminal; use -o FILE, or -o - to force it\n")
            throw ExitCode(2)
        }
        let output = output ?? "-"
        do {
            // Keep executing lines: the output should say what the input said.
            let (p, m) = try input.loadKeepingLines()
            if target == .collapsed {
                for note in Exporter.collapsedNotes(p, metric: m) { writeStderr("perftop: \(note.terminalSafe)\n") }
                // Streamed: the text can be many times the tree's size.
                try writeFile(output == "-" ? nil : output) { write in try Exporter.writeCollapsed(p, metric: m, to: write) }
                return
            }
            let bytes = try Exporter.export(p, to: target, metric: m)
            if output == "-" {
                writeStdout(bytes)
            } else {
                try writeFile(output, bytes)
            }
        } catch {
            throw fail(error, file: input.file)
        }
    }
}
