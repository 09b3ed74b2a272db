import Foundation

/// Tachyon's per-sample status byte (FORMATS.md §8.1) as sample classes. Each class is a metric
/// of the profile, so the viewer's metric switch shows only the samples of that class, and the
/// summary splits the time by the bits instead of by frame names.
public enum TachyonStatus {
    public static let hasGIL: UInt8 = 0x01, onCPU: UInt8 = 0x02, unknown: UInt8 = 0x04
    public static let gilRequested: UInt8 = 0x08, hasException: UInt8 = 0x10, mainThread: UInt8 = 0x20
    /// Tachyon's writer keeps the innermost 256 frames of a deeper stack.
    public static let writerDepth = 256

    public struct Class: Sendable {
        public var name: String
        /// What the status line says while this metric is shown.
        public var filter: String
        let test: @Sendable (UInt8) -> Bool
    }

    /// Waiting for the GIL: requested and not (yet) held, on CPU or not (a spinning waiter).
    static func waitsForGIL(_ s: UInt8) -> Bool { s & gilRequested != 0 && s & hasGIL == 0 }

    /// The metrics a capture with measured status bits gets, after `samples`. `gil-wait`,
    /// `off-cpu`, `no-gil-cpu` and the on-CPU samples holding the GIL partition the samples.
    public static let metrics: [Class] = [
        Class(name: "on-cpu", filter: "only samples on CPU") { $0 & onCPU != 0 },
        Class(name: "gil", filter: "only samples holding the GIL") { $0 & hasGIL != 0 },
        Class(name: "gil-wait", filter: "only samples waiting for the GIL") { waitsForGIL($0) },
        Class(name: "off-cpu", filter: "only samples off CPU") { $0 & onCPU == 0 && !waitsForGIL($0) },
        Class(name: "no-gil-cpu", filter: "only samples on CPU without the GIL") {
            $0 & onCPU != 0 && $0 & hasGIL == 0 && !waitsForGIL($0)
        },
        Class(name: "exception", filter: "only samples handling an exception") { $0 & hasException != 0 },
    ]

    /// For each status byte, bit k set when the sample is in class k of `metrics` (a table, so
    /// the record decoder does no closure calls per sample).
    static let classMask: [UInt8] = (0..<256).map { s in
        metrics.enumerated().reduce(UInt8(0)) { m, e in e.element.test(UInt8(s)) ? m | UInt8(1 << e.offset) : m }
    }

    /// The status-line note for a metric that filters the samples, if it is one.
    public static func filterNote(_ p: Profile, metric m: Int) -> String? {
        guard p.format == TachyonBinaryReader.name, m > 0, m < p.metrics.count else { return nil }
        return metrics.first { $0.name == p.metrics[m].name }?.filter
    }
}

/// Tachyon's optional TACHSTAT block: what the sampler measured about itself.
struct TachyonStats {
    var duration: Double
    var rate: Double
    var failed: Double?
    var missed: Double?

    static func percent(_ v: Double) -> String { ValueFormat.fixed(v, v < 10 ? 1 : 0) + "%" }

    var usable: Bool {
        [duration, rate, failed ?? 0, missed ?? 0].allSatisfy { $0.isFinite && $0 >= 0 && $0 < 1e12 }
    }

    var metadata: [(String, String)] {
        guard usable else { return [("sampler stats", "unreadable (not finite or negative)")] }
        var out = [("measured rate", ValueFormat.fixed(rate, 0) + " samples/s"),
                   ("sampling duration", ValueFormat.fixed(duration, 2) + " s")]
        if let failed { out.append(("failed samples", TachyonStats.percent(failed))) }
        if let missed { out.append(("missed samples", TachyonStats.percent(missed))) }
        return out
    }

    /// Said in the report header and the viewer when the sampler lost samples.
    var warning: String? {
        guard usable else { return "the TACHSTAT block holds numbers that are not finite or negative; ignored" }
        let f = failed ?? 0, m = missed ?? 0
        guard f > 0 || m > 0 else { return nil }
        return "the sampler ran at \(ValueFormat.fixed(rate, 0)) samples/s; \(TachyonStats.percent(f)) of samples "
            + "failed and \(TachyonStats.percent(m)) were missed (TACHSTAT)"
    }
}

extension Profile {
    /// What the sampler measured about itself (Tachyon's TACHSTAT block), for a report header.
    public var samplerNote: String? {
        let meta = Dictionary(metadata, uniquingKeysWith: { a, _ in a })
        guard let rate = meta["measured rate"] else { return nil }
        var s = "measured rate \(rate)"
        if let d = meta["sampling duration"] { s += " over \(d)" }
        if let f = meta["failed samples"] { s += ", \(f) failed" }
        if let m = meta["missed samples"] { s += ", \(m) missed" }
        return s + " (TACHSTAT)"
    }

    /// Short facts for the viewer's status line that qualify every number on screen: a metric
    /// that filters the samples, the sampler's measured rate and losses, stacks cut by the writer.
    public func statusNotes(metric m: Int) -> [String] {
        var out: [String] = []
        if let f = TachyonStatus.filterNote(self, metric: m) { out.append(f) }
        let meta = Dictionary(metadata, uniquingKeysWith: { a, _ in a })
        if let rate = meta["measured rate"] {
            var s = "rate " + rate.replacingOccurrences(of: " samples/s", with: "/s")
            if let f = meta["failed samples"], f != "0.0%" { s += " failed " + f }
            if let x = meta["missed samples"], x != "0.0%" { s += " missed " + x }
            out.append(s)
        }
        if let cut = meta["cut stacks"] { out.append("\(cut) stacks cut at \(TachyonStatus.writerDepth)") }
        return out
    }
}

extension Triage {
    /// A metric whose weight at a node is time of one known kind, whatever the frames say.
    struct RecordedClass {
        var metric: Int
        var kind: String
        var title: String
        /// Frame-rule classes that may name this time more precisely (off CPU in a lock wait).
        var refinedBy: Set<String> = []
    }

    /// The recorded classes of a profile, for its main metric only: Tachyon's status bits
    /// (when measured) and Scalene's per-line native and system CPU. Other metrics, such as
    /// the on-CPU samples alone, are classified by frame rules as usual.
    /// Samples whose status says an exception was set: across the classes, so said apart.
    static func exceptionWeight(_ p: Profile) -> Double? {
        guard p.format == TachyonBinaryReader.name, let i = p.metricIndex(named: "exception") else { return nil }
        return p.total(metric: i)
    }

    /// `recorded` is true when the profile measured them, even if no sample is in any of them
    /// (a capture entirely on CPU holding the GIL).
    static func recordedClasses(_ p: Profile, metric m: Int) -> (classes: [RecordedClass], recorded: Bool) {
        guard m == p.defaultMetric else { return ([], false) }
        let table: [(String, String, String, Set<String>)]
        switch p.format {
        case TachyonBinaryReader.name:
            table = [("gil-wait", "gil", "waiting for the GIL", []),
                     ("off-cpu", "offcpu", "off CPU (sleep, blocked, I/O)", ["lock", "idle"]),
                     ("no-gil-cpu", "native", "native code and extensions", [])]
        case ScaleneReader.name:
            table = [("native", "native", "native code and extensions", []),
                     ("system", "system", "system time (kernel: I/O, syscalls)", [])]
        default:
            return ([], false)
        }
        let unit = p.metrics[m].unit
        let classes = table.compactMap { name, kind, title, refine in
            p.metricIndex(named: name).flatMap { i in
                p.metrics[i].unit == unit ? RecordedClass(metric: i, kind: kind, title: title, refinedBy: refine) : nil
            }
        }
        let measured = !classes.isEmpty || p.metricIndex(named: "on-cpu") != nil || p.metricIndex(named: "gil") != nil
        return (classes, measured)
    }
}
