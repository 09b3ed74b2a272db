import ArgumentParser
import Foundation
import TUI

/// `perftop generate-manual` (hidden): prints the man page, perftop.1, built from the same
/// command definitions `--help` prints (argument-parser's `--experimental-dump-help`) and the
/// key table the viewer's help is generated from. `make install` writes it.
struct ManualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-manual",
        abstract: "Print the perftop(1) man page (roff).",
        shouldDisplay: false)

    func run() throws {
        // The tool's own description of its commands, as `--help` sees them.
        let exe = Bundle.main.executablePath ?? CommandLine.arguments[0]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["--experimental-dump-help"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let info = try JSONDecoder().decode(ToolInfo.self, from: data)
        FileHandle.standardOutput.write(Data(Manual.page(info.command).utf8))
    }
}

/// The parts of argument-parser's ToolInfoV0 the page uses.
struct ToolInfo: Decodable {
    var command: CommandInfo
}

struct CommandInfo: Decodable {
    var commandName: String
    var abstract: String?
    var discussion: String?
    var shouldDisplay: Bool?
    var defaultSubcommand: String?
    var subcommands: [CommandInfo]?
    var arguments: [ArgumentInfo]?
}

struct ArgumentInfo: Decodable {
    struct Name: Decodable { var kind: String; var name: String }
    var kind: String                 // positional, option, flag
    var names: [Name]?
    var valueName: String?
    var abstract: String?
    var discussion: String?
    var defaultValue: String?
    var isOptional: Bool?
    var isRepeating: Bool?
    var shouldDisplay: Bool?
}

enum Manual {
    /// roff for `text`: backslashes escaped, a leading `.` or `'` kept from being a request,
    /// hyphens as minus signs so that options can be copied and searched.
    static func esc(_ text: String) -> String {
        var s = text.replacingOccurrences(of: "\\", with: "\\e").replacingOccurrences(of: "-", with: "\\-")
        s = s.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : String(line)
        }.joined(separator: "\n")
        return s
    }

    static func flagNames(_ a: ArgumentInfo) -> String {
        let names = (a.names ?? []).map { n in n.kind == "long" ? "--" + n.name : n.kind == "short" ? "-" + n.name : "-" + n.name }
        var s = names.map { "\\fB" + esc($0) + "\\fR" }.joined(separator: ", ")
        if a.kind == "option" { s += " \\fI" + esc(a.valueName ?? "value") + "\\fR" }
        if a.kind == "positional" { s = "\\fI" + esc(a.valueName ?? "arg") + "\\fR" }
        return s
    }

    static func synopsis(_ c: CommandInfo, path: String) -> String {
        var parts = ["\\fB" + esc(path) + "\\fR"]
        for a in c.arguments ?? [] where a.shouldDisplay != false && a.kind == "positional" {
            let v = "\\fI" + esc(a.valueName ?? "arg") + "\\fR" + (a.isRepeating == true ? "..." : "")
            parts.append(a.isOptional == true ? "[" + v + "]" : v)
        }
        if (c.arguments ?? []).contains(where: { $0.kind != "positional" && $0.shouldDisplay != false }) { parts.insert("[\\fIoptions\\fR]", at: 1) }
        return parts.joined(separator: " ")
    }

    static func options(_ c: CommandInfo) -> [String] {
        var out: [String] = []
        for a in c.arguments ?? [] where a.shouldDisplay != false {
            // The built-in help and version flags are described once, at the top.
            if let n = a.names?.first?.name, ["help", "version", "h"].contains(n) { continue }
            out.append(".TP")
            out.append(flagNames(a))
            var text = a.abstract ?? ""
            if let d = a.discussion, !d.isEmpty { text += " " + d }
            if let d = a.defaultValue, !d.isEmpty, a.kind == "option" { text += " (default: \(d))" }
            if a.isRepeating == true && a.kind != "positional" { text += " May be repeated." }
            out.append(esc(text))
        }
        return out
    }

    /// The whole page.
    static func page(_ root: CommandInfo) -> String {
        var l: [String] = []
        l.append(".TH PERFTOP 1 \"\" \"perftop \(perftopVersion)\" \"User Commands\"")
        l.append(".SH NAME")
        l.append("perftop \\- " + esc(root.abstract ?? "a terminal profile viewer"))
        l.append(".SH SYNOPSIS")
        let subs = (root.subcommands ?? []).filter { $0.shouldDisplay != false && $0.commandName != "help" }
        for s in subs {
            l.append(synopsis(s, path: "perftop " + s.commandName))
            l.append(".br")
        }
        l.append("\\fBperftop\\fR \\fIfile\\fR (short for \\fBperftop view\\fR \\fIfile\\fR)")
        l.append(".SH DESCRIPTION")
        for para in (root.discussion ?? "").components(separatedBy: "\n\n") where !para.isEmpty {
            l.append(".PP")
            l.append(esc(para.replacingOccurrences(of: "\n", with: " ")))
        }
        l.append(".PP")
        l.append("Every command takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR; \\fBperftop \\-\\-version\\fR prints the version.")
        l.append(".SH COMMANDS")
        for s in subs {
            l.append(".SS \"perftop " + esc(s.commandName) + "\"")
            l.append(synopsis(s, path: "perftop " + s.commandName))
            l.append(".PP")
            l.append(esc(s.abstract ?? ""))
            if let d = s.discussion, !d.isEmpty {
                l.append(".PP")
                l.append(esc(d.replacingOccurrences(of: "\n", with: " ")))
            }
            l += options(s)
        }
        l.append(".SH KEYS")
        l.append("In the viewer \\fB?\\fR shows this table, generated from the same key table.")
        for line in Keymap.helpLines(ascii: true) {
            if line.heading {
                l.append(".SS \"" + esc(line.keys) + "\"")
            } else {
                l.append(".TP")
                l.append("\\fB" + esc(line.keys) + "\\fR")
                l.append(esc(line.text))
            }
        }
        l.append(".SH FILES")
        l.append(".TP")
        l.append("\\fI$XDG_CONFIG_HOME/perftop/config.toml\\fR (\\fI~/.config/perftop/config.toml\\fR)")
        l.append(esc("Settings ([viewer]: theme, view, sort, mouse, paths, editor) and triage rules ([triage], [[triage.rule]]). An unknown key is an error: FILE:LINE: unknown key, exit status 2."))
        l.append(".SH ENVIRONMENT")
        l.append(".TP")
        l.append("\\fBNO_COLOR\\fR")
        l.append("When set and not empty, no colour (as \\fB\\-\\-no\\-color\\fR).")
        l.append(".TP")
        l.append("\\fBEDITOR\\fR")
        l.append("The editor \\fBe\\fR opens (default \\fBvi\\fR), unless the config file names one.")
        l.append(".TP")
        l.append("\\fBXDG_CONFIG_HOME\\fR")
        l.append("Where the config file is looked for (default \\fI~/.config\\fR).")
        l.append(".SH EXIT STATUS")
        l.append("0 on success; 2 for bad input, with one line on standard error: \\fIperftop: FILE:LINE: ...\\fR or \\fIperftop: FILE@OFFSET: ...\\fR.")
        l.append(".SH SEE ALSO")
        l.append(".BR py\\-spy (1),")
        l.append(".BR austin (1),")
        l.append(".BR perf (1)")
        return l.joined(separator: "\n") + "\n"
    }
}
