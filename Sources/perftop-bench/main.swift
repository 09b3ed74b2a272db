// perftop-bench: reading speed and peak memory on deterministic inputs, next to reference
// tools run on the same files in the same run. See BENCHMARKS.md for how to run it.
//
//   perftop-bench [--dir DIR] [--runs N]     generate inputs if missing, run every case
//   perftop-bench --one KIND FILE            (internal) load FILE once, print seconds
//   perftop-bench --invert FILE [N]          build FILE's bottom-up tree N times, print seconds
import Foundation
import ProfileModel
import TUI

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs a command under GNU time; returns wall seconds, its peak RSS in bytes and its stdout.
/// (wait4's ru_maxrss is no good here: Linux carries the spawning process's peak across exec.)
func spawn(_ command: [String]) -> (seconds: Double, peakRSS: Int, out: String, status: Int32) {
    let rssFile = "/tmp/perftop-bench-rss-\(getpid())"
    let argv = ["/usr/bin/time", "-f", "%M", "-o", rssFile] + command
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    let cargs = argv.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    var pid: pid_t = 0
    let t0 = now()
    let rc = posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ)
    close(fds[1])
    guard rc == 0 else { close(fds[0]); return (0, 0, "", -1) }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fds[0], &buf, buf.count)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    close(fds[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let t1 = now()
    let kb = (try? String(contentsOfFile: rssFile, encoding: .utf8))?
        .split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
    unlink(rssFile)
    return (t1 - t0, kb * 1024, String(decoding: out, as: UTF8.self), (status >> 8) & 0xFF)
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

let args = CommandLine.arguments
if args.count >= 4 && args[1] == "--one" {
    // One load in a fresh process, so its peak RSS is the reader's own.
    let t0 = now()
    do {
        let p = try FormatRegistry.load(path: args[3])
        let t1 = now()
        print(String(format: "%.6f %d %d", t1 - t0, p.tree.count, p.functions.count))
    } catch {
        print("error \(error)")
        exit(2)
    }
    exit(0)
}

if args.count >= 3 && args[1] == "--invert" {
    // The bottom-up tree (the viewer's `4`), built N times from one loaded profile.
    guard let p = try? FormatRegistry.load(path: args[2]) else { print("error loading \(args[2])"); exit(2) }
    let n = args.count >= 4 ? max(1, Int(args[3]) ?? 5) : 5
    var times: [Double] = [], nodes = 0
    for _ in 0..<n {
        let t0 = now()
        nodes = p.inverted().tree.count
        times.append(now() - t0)
    }
    print(String(format: "inverted: %d nodes from %d; ", nodes, p.tree.count)
          + times.map { String(format: "%.3f", $0) }.joined(separator: " ")
          + String(format: " s (median %.3f s)", median(times)))
    exit(0)
}

if args.count >= 3 && args[1] == "--viewer" {
    // First screen and per-keystroke redraw on a big profile, headless (the same code the
    // terminal runs, minus curses).
    let t0 = now()
    let p: Profile
    do { p = try FormatRegistry.load(path: args[2], mergeLines: true) } catch { print("error \(error)"); exit(2) }
    let session = Session(profile: p, fileName: args[2])
    let size = Size(width: 80, height: 24)
    var state = Viewer.initialState(session, size: size, options: ViewerOptions())
    var grid = Screen.render(state, session: session, size: size, options: RenderOptions())
    let first = now() - t0
    print(String(format: "first screen: %.3f s (load, hot path, draw) for %d nodes", first, p.tree.count))
    let script = "jjjjkkkk<PgDn><PgDn><PgUp>llhh*jjjjjjj<PgDn><PgDn>G<PgUp>g-H"
        + "5jjjkk<Enter><Esc>llhh" + "1jjjj<PgDn>ss" + "4jjll" + "3jjk" + "2" + "0j0j"
    let keys = (try? Key.parse(script)) ?? []
    var times: [Double] = []
    for k in keys {
        let a = now()
        state.handle(k, deriver: session, size: size)
        grid = Screen.render(state, session: session, size: size, options: RenderOptions())
        times.append(now() - a)
    }
    _ = grid
    let sorted = times.sorted()
    let first10 = Array(zip(keys, times).sorted { $0.1 > $1.1 }.prefix(5))
    print(String(format: "keystrokes: %d, median %.2f ms, p90 %.2f ms, max %.2f ms", times.count,
                 sorted[sorted.count / 2] * 1000, sorted[sorted.count * 9 / 10] * 1000, sorted.last! * 1000))
    print("slowest: " + first10.map { String(format: "%@ %.1f ms", $0.0.description, $0.1 * 1000) }.joined(separator: ", "))
    exit(0)
}

if args.count >= 4 && args[1] == "--ingest" {
    // Live ingestion: a writer thread pushes FILE into a pipe N times as fast as it can; the
    // ingest loop parses and publishes snapshots (10 Hz) as the viewer would see them.
    let repeats = Int(args[3]) ?? 1
    // Only whole sample lines repeat (austin's header and footer once). The file's own bytes
    // are let go here, so that what the bench holds is `body` alone, printed as the baseline.
    let body: [UInt8] = {
        guard let f = fopen(args[2], "rb") else { return [] }
        defer { fclose(f) }
        fseek(f, 0, SEEK_END)
        let size = ftell(f)
        fseek(f, 0, SEEK_SET)
        var bytes = [UInt8](unsafeUninitializedCapacity: max(0, size)) { buf, n in
            n = fread(buf.baseAddress, 1, buf.count, f)
        }
        // Drops '#' lines in place (the write index never passes the read index).
        var w = 0, r = 0
        while r < bytes.count {
            var e = r
            while e < bytes.count && bytes[e] != 0x0A { e += 1 }
            if e > r && bytes[r] != 0x23 {
                for i in r..<e { bytes[w] = bytes[i]; w += 1 }
                bytes[w] = 0x0A; w += 1
            }
            r = e + 1
        }
        bytes.removeLast(bytes.count - w)
        return bytes
    }()
    func procStatus(_ key: String) -> String {
        let line = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix(key) } ?? "\(key) ?"
        return String(line).replacingOccurrences(of: "\t", with: " ")
    }
    print("before ingestion (the bench's copy of the input): \(procStatus("VmRSS"))")
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    let writeFD = fds[1]
    let writer = Thread {
        for _ in 0..<repeats {
            var pos = 0
            while pos < body.count {
                let n = body.withUnsafeBytes { write(writeFD, $0.baseAddress! + pos, body.count - pos) }
                if n <= 0 { break }
                pos += n
            }
        }
        close(writeFD)
    }
    let ingest = LiveIngest(source: FDLiveSource(fd: fds[0]), name: args[2])
    // --ingest FILE N MAXMEM: the live memory cap (--max-memory), e.g. 300M.
    if args.count >= 5, let cap = MemoryBudget.parse(args[4]) { ingest.memoryLimit = cap }
    // --window SECONDS: the viewer's time window (`w`), whose rebuilds forget what left it.
    if let w = args.firstIndex(of: "--window"), w + 1 < args.count, let seconds = Int(args[w + 1]) {
        ingest.setWindow(seconds)
    }
    let t0 = now()
    writer.start()
    // The UI thread, as in Viewer.run: every 100 ms adopt the newest snapshot, draw, and answer
    // a key; each turn's latency is what a keypress would wait for.
    ingest.start()
    let empty = ProfileBuilder(format: "live", metrics: [ValueType("samples", "count")]).freeze(source: "-")
    let session = Session(profile: empty, fileName: "-")
    let size = Size(width: 80, height: 24)
    var state = Viewer.initialState(session, size: size, options: ViewerOptions())
    var generation = -1
    var turns: [Double] = []
    let keys: [Key] = [.char("j"), .char("k"), .char("5"), .char("2"), .pgDn, .char("1")]
    var k = 0
    while true {
        let (snap, st) = ingest.snapshot()
        let a = now()
        session.live = st
        if let snap, st.generation != generation {
            generation = st.generation
            session.adopt(snap, into: &state, size: size)
        }
        state.handle(keys[k % keys.count], deriver: session, size: size)
        k += 1
        _ = Screen.render(state, session: session, size: size, options: RenderOptions())
        turns.append(now() - a)
        if st.state != .live && st.state != .waiting { break }
        usleep(100_000)
    }
    let dt = now() - t0
    let sortedTurns = turns.sorted()
    print(String(format: "UI turns during ingestion (adopt + key + draw): %d, median %.2f ms, max %.2f ms",
                 turns.count, sortedTurns[sortedTurns.count / 2] * 1000, sortedTurns.last! * 1000))
    let (p, status) = ingest.snapshot()
    let lines = body.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } * repeats
    print(String(format: "ingest: %d lines (%d samples) in %.2f s = %.2fM lines/s; %d snapshots; %d nodes; %@",
                 lines, status.samples, dt, Double(lines) / dt / 1e6, status.generation, p?.tree.count ?? 0,
                 procStatus("VmHWM")))
    if status.capped { print("memory cap reached: \(status.dropped) \(status.droppedUnit) not counted") }
    exit(0)
}

var dir = "/tmp/perftop-bench"
var runs = 5
var i = 1
while i < args.count {
    switch args[i] {
    case "--dir": i += 1; dir = args[i]
    case "--runs": i += 1; runs = max(1, Int(args[i]) ?? 5)
    default: print("usage: perftop-bench [--dir DIR] [--runs N]"); exit(2)
    }
    i += 1
}

let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
let folded = dir + "/big.folded", pstatsFile = dir + "/big.pstats"
if !FileManager.default.fileExists(atPath: folded) || !FileManager.default.fileExists(atPath: pstatsFile) {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    print("generating inputs in \(dir) (python3 Scripts/gen_bench_inputs.py, seed 42)")
    let g = spawn(["python3", repo + "/Scripts/gen_bench_inputs.py", dir])   // needs /usr/bin/time too
    guard g.status == 0 else { print("generator failed"); exit(1) }
}
let me = CommandLine.arguments[0].contains("/") ? CommandLine.arguments[0]
    : (ProcessInfo.processInfo.environment["PWD"] ?? ".") + "/" + CommandLine.arguments[0]

func size(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }

struct Row { var name: String; var seconds: Double; var peak: Int; var note: String }

struct Case {
    let name: String, argv: [String], internalTime: Bool
    var secs: [Double] = [], peaks: [Int] = [], note = ""
    init(_ name: String, _ argv: [String], internalTime: Bool) { self.name = name; self.argv = argv; self.internalTime = internalTime }

    mutating func run() {
        let r = spawn(argv)
        if r.status != 0 { print("\(name) failed: \(r.out)"); exit(1) }
        if internalTime, let t = Double(r.out.split(separator: " ").first ?? "") {
            secs.append(t)
            let parts = r.out.split(separator: " ")
            note = "\(parts[1]) nodes, \(parts[2].trimmingCharacters(in: .whitespacesAndNewlines)) functions"
        } else { secs.append(r.seconds) }
        peaks.append(r.peakRSS)
    }

    var row: Row { Row(name: name, seconds: median(secs), peak: peaks.max() ?? 0, note: note) }
}

/// A reference and perftop in turns, `runs` times each: a slow phase of the machine (see
/// BENCHMARKS.md) then falls on both alike, and each turn gives a ratio of its own.
func measure(_ reference: Case, _ subject: Case, runs: Int) -> (Case, Case) {
    var a = reference, b = subject
    for _ in 0..<runs { a.run(); b.run() }
    return (a, b)
}

let fsize = size(folded), psize = size(pstatsFile)
print("perftop-bench: \(runs) runs each, median time, max peak RSS; \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("inputs: big.folded \(mb(fsize)), big.pstats \(mb(psize))\n")
_ = spawn(["sh", "-c", "cat '\(folded)' > /dev/null"])   // warm the page cache for everyone

let (wcCase, frCase) = measure(Case("wc -l big.folded", ["wc", "-l", folded], internalTime: false),
                               Case("perftop folded read + tree", [me, "--one", "collapsed", folded], internalTime: true),
                               runs: runs)
// pstats has an absolute budget (under 0.25 s): its runs go back to back, after Python's. In
// turns with Python's 4-second runs they spread over half a minute of this VM's phases.
var pyCase = Case("python3 pstats print_stats(20)",
                  ["python3", "-c", "import pstats,sys,io; pstats.Stats(sys.argv[1], stream=io.StringIO()).sort_stats('cumulative').print_stats(20)", pstatsFile],
                  internalTime: false)
var prCase = Case("perftop pstats read + tree", [me, "--one", "pstats", pstatsFile], internalTime: true)
for _ in 0..<runs { pyCase.run() }
for _ in 0..<runs { prCase.run() }
let (wc, fr, py, pr) = (wcCase.row, frCase.row, pyCase.row, prCase.row)
let foldedRatios = zip(frCase.secs, wcCase.secs).map { $0 / $1 }

print("| case | median time | throughput | peak RSS | vs reference |")
print("|---|---:|---:|---:|---|")
func line(_ r: Row, _ bytes: Int, _ ref: String) {
    print(String(format: "| %@ | %.3f s | %.0f MB/s | %@ | %@ |", r.name, r.seconds, Double(bytes) / 1e6 / r.seconds,
                 mb(r.peak), ref))
}
line(wc, fsize, "reference")
line(fr, fsize, String(format: "%.1fx wc -l time; peak %.2fx file size; %@", fr.seconds / wc.seconds,
                       Double(fr.peak) / Double(fsize), fr.note))
line(py, psize, "reference")
line(pr, psize, String(format: "%.1fx faster than Python pstats; %@", py.seconds / pr.seconds, pr.note))
func list(_ xs: [Double], _ f: String) -> String { xs.map { String(format: f, $0) }.joined(separator: " ") }
print("\nEach run (folded: in turns, reference then perftop):")
print("folded: wc -l " + list(wcCase.secs, "%.3f") + " s; perftop " + list(frCase.secs, "%.3f") + " s; ratio "
      + list(foldedRatios, "%.1fx") + String(format: " (median %.1fx)", median(foldedRatios)))
print("pstats: Python " + list(pyCase.secs, "%.2f") + " s; perftop " + list(prCase.secs, "%.3f") + " s")
