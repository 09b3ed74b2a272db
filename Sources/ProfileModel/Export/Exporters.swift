import Foundation
import SwiftProtobuf

/// Writes a loaded profile out again, for the tools that come after perftop: flamegraph.pl and
/// inferno (collapsed), speedscope, and pprof. One metric at a time for the text formats; pprof
/// carries every metric as a sample type.
public enum Exporter {
    public enum Target: String, CaseIterable, Sendable { case collapsed, speedscope, pprof }

    public static func export(_ p: Profile, to target: Target, metric: Int) throws -> [UInt8] {
        switch target {
        case .collapsed: return collapsedBytes(p, metric: metric, exact: false)
        case .speedscope: return Array(speedscope(p, metric: metric).utf8)
        case .pprof: return try pprof(p)
        }
    }

    /// Frame text as folded files write it: `name (file:line)`, `name (file)` or `name`.
    static func frameText(_ p: Profile, _ f: Int32) -> String {
        let fr = p.frames.frame(f)
        guard let file = fr.file, !fr.kind.isGrouping else { return fr.name }
        return fr.line.map { "\(fr.name) (\(file):\($0))" } ?? "\(fr.name) (\(file))"
    }

    /// One `frame;frame;... COUNT` line per distinct stack with weight, sorted (as inferno's
    /// collapse output), so a sorted collapsed file round-trips byte for byte. Counts are
    /// written without an exponent, which flamegraph.pl's number pattern rejects (pstats'
    /// seconds such as `6.2644e-05` would be dropped): times in whole `collapsedUnit`s (stacks
    /// under half a unit are left out), other values as decimals.
    public static func collapsed(_ p: Profile, metric m: Int) -> String {
        collapsed(p, metric: m, exact: false)
    }

    /// `exact`: weights in the metric's own unit at full precision (Swift's shortest round-trip
    /// text, exponents allowed), for tests that compare stacks with a reference; not for
    /// flamegraph.pl.
    static func collapsed(_ p: Profile, metric m: Int, exact: Bool) -> String {
        String(decoding: collapsedBytes(p, metric: m, exact: exact), as: UTF8.self)
    }

    static func collapsedBytes(_ p: Profile, metric m: Int, exact: Bool) -> [UInt8] {
        var sorted: [UInt8] = []
        writeCollapsed(p, metric: m, exact: exact) { sorted.append(contentsOf: $0) }
        return sorted
    }

    /// The collapsed text handed to `write` in pieces of about a megabyte, in order: the output
    /// can be far bigger than the tree (a deep tree's lines repeat its paths), so it is not
    /// joined into a second copy of itself.
    public static func writeCollapsed(_ p: Profile, metric m: Int, exact: Bool = false,
                                      to write: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard let (out, lineStart, order) = collapsedLines(p, metric: m, exact: exact) else { return }
        var piece: [UInt8] = []
        piece.reserveCapacity(1 << 20)
        for i in order {
            piece.append(contentsOf: out[lineStart[i]..<lineStart[i + 1]])
            piece.append(UInt8(ascii: "\n"))
            if piece.count >= 1 << 20 {
                try piece.withUnsafeBytes(write)
                piece.removeAll(keepingCapacity: true)
            }
        }
        if !piece.isEmpty { try piece.withUnsafeBytes(write) }
    }

    /// The lines are made from each weighted node's ancestors into one byte buffer, then sorted
    /// by offset: a stack string kept for every node (the obvious way) costs the tree's depth
    /// times its size, tens of GB for a big pprof file. Nil when there is no line.
    private static func collapsedLines(_ p: Profile, metric m: Int, exact: Bool) -> (bytes: [UInt8], lineStart: [Int], order: [Int])? {
        let t = p.tree
        let n = t.count
        guard n > 1 else { return nil }
        let scale = exact ? 1 : collapsedUnit(p, metric: m).factor
        // Each frame's text once, as it appears in a line (';' separates frames, '\n' lines).
        var frameStart = [Int](repeating: -1, count: p.frames.frameCount)
        var frameEnd = [Int](repeating: 0, count: p.frames.frameCount)
        var frameASCII = [Bool](repeating: true, count: p.frames.frameCount)
        var frameBytes: [UInt8] = []
        func weight(_ node: Int) -> Double {
            scale == 1 ? t.selfWeight[m][node] : (t.selfWeight[m][node] * scale).rounded()
        }
        // Each node's path text length (parents come first), so that the lines' buffer is sized
        // once: doubling a buffer of hundreds of MB held the old and the new one at once.
        var pathLength = [Int](repeating: 0, count: n)
        var total = 0
        for node in 1..<n {
            let fi = Int(t.frame[node]), parent = Int(t.parent[node])
            if frameStart[fi] < 0 {
                frameStart[fi] = frameBytes.count
                for b in frameText(p, Int32(fi)).utf8 {
                    frameBytes.append(b == UInt8(ascii: ";") ? UInt8(ascii: ":") : b == UInt8(ascii: "\n") ? UInt8(ascii: " ") : b)
                    if b >= 0x80 { frameASCII[fi] = false }
                }
                frameEnd[fi] = frameBytes.count
            }
            pathLength[node] = (parent == 0 ? 0 : pathLength[parent] + 1) + frameEnd[fi] - frameStart[fi]
            if weight(node) != 0 { total += pathLength[node] + 32 }
        }
        pathLength = []
        var out: [UInt8] = []
        out.reserveCapacity(total)
        var lineStart: [Int] = []
        var path: [Int32] = []
        var ascii = true
        for node in 1..<n {
            let w = weight(node)
            guard w != 0 else { continue }
            path.removeAll(keepingCapacity: true)
            var k = node
            while k > 0 { path.append(t.frame[k]); k = Int(t.parent[k]) }
            lineStart.append(out.count)
            for (i, f) in path.reversed().enumerated() {
                let fi = Int(f)
                if !frameASCII[fi] { ascii = false }
                if i > 0 { out.append(UInt8(ascii: ";")) }
                out.append(contentsOf: frameBytes[frameStart[fi]..<frameEnd[fi]])
            }
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: (exact && w != w.rounded() ? "\(w)" : decimal(w)).utf8)
        }
        guard !lineStart.isEmpty else { return nil }
        lineStart.append(out.count)
        var order = Array(0..<(lineStart.count - 1))
        if ascii {
            // ASCII strings compare as their bytes.
            out.withUnsafeBufferPointer { b in
                let base = b.baseAddress!
                order.sort { x, y in
                    let (xs, xn) = (lineStart[x], lineStart[x + 1] - lineStart[x])
                    let (ys, yn) = (lineStart[y], lineStart[y + 1] - lineStart[y])
                    let c = memcmp(base + xs, base + ys, min(xn, yn))
                    return c != 0 ? c < 0 : xn < yn
                }
            }
        } else {
            // String order (canonical equivalence), as the lines were always sorted.
            let lines = order.map { String(decoding: out[lineStart[$0]..<lineStart[$0 + 1]], as: UTF8.self) }
            order.sort { lines[$0] < lines[$1] }
        }
        return (out, lineStart, order)
    }

    /// The unit collapsed counts are written in, and the factor from the metric's unit: times
    /// with fractions become whole microseconds; other values keep their unit.
    public static func collapsedUnit(_ p: Profile, metric m: Int) -> (factor: Double, unit: String) {
        let unit = p.metrics[m].unit
        let t = p.tree
        let integral = (0..<t.count).allSatisfy { t.selfWeight[m][$0] == t.selfWeight[m][$0].rounded() }
        if integral { return (1, unit) }
        switch unit {
        case "seconds", "s": return (1e6, "microseconds")
        case "milliseconds", "ms": return (1e3, "microseconds")
        default: return (1, unit)
        }
    }

    /// What a reader of the collapsed output should know that the format cannot say: the
    /// counts' unit when it changed, and that a call-graph profile's stacks are estimated.
    public static func collapsedNotes(_ p: Profile, metric m: Int) -> [String] {
        var notes: [String] = []
        let (factor, unit) = collapsedUnit(p, metric: m)
        if factor != 1 { notes.append("counts are \(unit) (the profile's \(p.metrics[m].unit), as integers)") }
        if p.estimatedTree {
            notes.append("the stacks are estimated from a call graph (\(p.format) records callers and callees, not whole stacks)")
        }
        return notes
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// `number` in plain decimal notation: digits, then at most 9 fractional digits.
    static func decimal(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        var s = String(format: "%.9f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    /// A speedscope file: shared frames and one sampled profile (its stacks and weights).
    public static func speedscope(_ p: Profile, metric m: Int) -> String {
        let t = p.tree
        let unit: String = switch p.metrics[m].unit {
        case "seconds", "s": "seconds"
        case "milliseconds", "ms": "milliseconds"
        case "microseconds", "us", "µs": "microseconds"
        case "nanoseconds", "ns": "nanoseconds"
        case "bytes": "bytes"
        default: "none"
        }
        var frameIndex = [Int32: Int]()
        var frames: [Int32] = []
        var stacks: [[Int]] = []
        var weights: [Double] = []
        var path: [Int] = []
        // Node 0 holds samples with an empty stack; speedscope allows an empty sample.
        for n in 0..<t.count {
            let w = t.selfWeight[m][n]
            guard w != 0 else { continue }
            path.removeAll(keepingCapacity: true)
            var k = Int32(n)
            while k > 0 {
                let f = t.frame[Int(k)]
                let i = frameIndex[f] ?? { frames.append(f); frameIndex[f] = frames.count - 1; return frames.count - 1 }()
                path.append(i)
                k = t.parent[Int(k)]
            }
            stacks.append(path.reversed())
            weights.append(w)
        }
        var out = "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":\"perftop\","
        out += "\"name\":" + JSONWriter.quote(p.source) + ",\"activeProfileIndex\":0,\"shared\":{\"frames\":["
        out += frames.map { f -> String in
            let fr = p.frames.frame(f)
            var o = "{\"name\":" + JSONWriter.quote(fr.name)
            if let file = fr.file { o += ",\"file\":" + JSONWriter.quote(file) }
            if let line = fr.line { o += ",\"line\":\(line)" }
            return o + "}"
        }.joined(separator: ",")
        let total = weights.reduce(0, +)
        out += "]},\"profiles\":[{\"type\":\"sampled\",\"name\":" + JSONWriter.quote(p.metrics[m].description)
        out += ",\"unit\":\"\(unit)\",\"startValue\":0,\"endValue\":\(number(total)),\"samples\":["
        out += stacks.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",")
        out += "],\"weights\":[" + weights.map(number).joined(separator: ",") + "]}]}\n"
        return out
    }

    /// A pprof profile.proto: every metric is a sample type; one location per frame.
    public static func pprof(_ p: Profile) throws -> [UInt8] {
        var strings: [String] = [""]
        var stringIndex: [String: Int64] = ["": 0]
        func s(_ x: String) -> Int64 {
            if let i = stringIndex[x] { return i }
            strings.append(x); stringIndex[x] = Int64(strings.count - 1)
            return Int64(strings.count - 1)
        }
        var prof = Perftools_Profiles_Profile()
        prof.sampleType = p.metrics.map { v in
            var t = Perftools_Profiles_ValueType(); t.type = s(v.name); t.unit = s(v.unit); return t
        }
        prof.defaultSampleType = s(p.metrics[p.defaultMetric].name)
        var functionID = [Int32: UInt64]()
        var locationID = [Int32: UInt64]()
        let t = p.tree
        // pprof values are integers: scale fractional metrics (seconds) to nanoseconds.
        let scale: [Double] = p.metrics.map { v in
            switch v.unit { case "seconds", "s": 1e9; case "milliseconds", "ms": 1e6; case "microseconds", "us", "µs": 1e3; default: 1 }
        }
        if scale.contains(where: { $0 != 1 }) {
            prof.sampleType = p.metrics.enumerated().map { i, v in
                var ty = Perftools_Profiles_ValueType(); ty.type = s(v.name); ty.unit = s(scale[i] == 1 ? v.unit : "nanoseconds"); return ty
            }
        }
        for n in 0..<t.count {            // node 0: samples with no frame (an empty stack)
            let values = try (0..<p.metrics.count).map { m -> Int64 in
                let v = (t.selfWeight[m][n] * scale[m]).rounded()
                // pprof holds 64-bit integers: a weight past them (or not finite) is refused, not cut.
                guard v.isFinite, abs(v) < 9.2e18 else {
                    throw ProfileError("weight \(t.selfWeight[m][n]) (\(p.metrics[m].name), \(p.metrics[m].unit)) does not fit pprof's 64-bit integer values")
                }
                return Int64(v)
            }
            guard values.contains(where: { $0 != 0 }) else { continue }
            var sample = Perftools_Profiles_Sample()
            var k = Int32(n)
            while k > 0 {
                let f = t.frame[Int(k)]
                let loc = locationID[f] ?? {
                    let fr = p.frames.frame(f)
                    let fnKey = p.frames.frameFunction[Int(f)] >= 0 ? p.frames.frameFunction[Int(f)] : -1 - f
                    let fid = functionID[fnKey] ?? {
                        var fn = Perftools_Profiles_Function()
                        fn.id = UInt64(prof.function.count + 1)
                        fn.name = s(fr.name)
                        fn.systemName = fn.name
                        fn.filename = s(fr.file ?? "")
                        prof.function.append(fn)
                        functionID[fnKey] = fn.id
                        return fn.id
                    }()
                    var l = Perftools_Profiles_Location()
                    l.id = UInt64(prof.location.count + 1)
                    var line = Perftools_Profiles_Line()
                    line.functionID = fid
                    line.line = Int64(fr.line ?? 0)
                    l.line = [line]
                    prof.location.append(l)
                    locationID[f] = l.id
                    return l.id
                }()
                sample.locationID.append(loc)
                k = t.parent[Int(k)]
            }
            sample.value = values
            prof.sample.append(sample)
        }
        prof.stringTable = strings.map { Data($0.utf8) }
        return try [UInt8](prof.serializedData())
    }
}
