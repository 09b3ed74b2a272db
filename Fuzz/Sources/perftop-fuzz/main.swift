import Foundation
import ProfileModel

/// One libFuzzer target for a reader family (`PERFTOP_FUZZ_FAMILY`: json, text or binary). The
/// first input byte picks the reader and the chunk size, so one run covers the whole family
/// and the readers' carry-over across chunks; the rest is the file. A reader may refuse the
/// input (a thrown error): only a crash, a sanitizer report, a hang or memory past libFuzzer's
/// RSS limit is a finding.
enum Fuzz {
    static let families: [String: [String]] = [
        "json": ["speedscope", "trace-event", "cpuprofile", "gecko", "pyinstrument", "tachyon-jsonl"],
        "text": ["collapsed", "austin", "perf-script", "callgrind", "importtime", "memray-csv", "gprof2dot"],
        "binary": ["pprof", "mojo", "pstats", "tachyon"],
    ]
    static let formats = families[ProcessInfo.processInfo.environment["PERFTOP_FUZZ_FAMILY"] ?? "binary"] ?? families["binary"]!
    static let chunks = [1, 7, 4096, 1 << 20]
    /// Lazy, so it holds whichever `main` runs (libFuzzer's calls the function below directly).
    static let setUp: Void = { MemoryBudget.limit = 256 << 20 }()

    static func one(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        _ = setUp
        guard let data, size > 0 else { return 0 }
        let pick = Int(data[0])
        let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
        let format = formats[pick % formats.count]
        let chunk = chunks[(pick / formats.count) % chunks.count]
        _ = try? FormatRegistry.load(source: MemorySource(bytes, chunk: chunk), name: "fuzz", format: format)
        return 0
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { Fuzz.one(data, size) }

/// libFuzzer's driver. SwiftPM names an executable's entry point itself, so libFuzzer's own
/// `main` is not used: this one hands over to the driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argc, &argv) { Fuzz.one($0, $1) })
