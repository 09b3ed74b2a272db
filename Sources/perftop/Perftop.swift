import ArgumentParser

@main
struct Perftop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perftop",
        abstract: "A terminal profile viewer: function table, hot-path call tree, callers/callees and flame graph.",
        discussion: """
        Reads pstats (cProfile, profile, yappi), folded stacks (py-spy raw, flamegraph.pl, inferno), \
        speedscope, Chrome .cpuprofile and trace events, austin text and MOJO, perf script, pprof, \
        callgrind, pyinstrument and Firefox/gecko profiles. The format is detected from the content; \
        gzip input is inflated transparently.

        `perftop FILE` is short for `perftop view FILE`; `perftop -` reads standard input, live when \
        it is a pipe.
        """,
        version: perftopVersion,
        subcommands: [View.self, ReportCommand.self, DiffCommand.self, LiveCommand.self, ConvertCommand.self,
                      RecordCommand.self, ManualCommand.self],
        defaultSubcommand: View.self)
}

let perftopVersion = "0.1.0"
