/// Number and name formatting shared by the text report and the viewer.
public enum ValueFormat {
    /// A scale for showing values of `unit` whose largest magnitude is `maxValue`:
    /// (divisor, suffix). Times become s/ms/µs, bytes KiB/MiB/GiB.
    public static func scale(unit: String, maxValue: Double) -> (Double, String) {
        let secondsPer: Double? = switch unit {
        case "seconds", "s": 1
        case "milliseconds", "ms": 1e-3
        case "microseconds", "us", "µs", "μs": 1e-6
        case "nanoseconds", "ns": 1e-9
        default: nil
        }
        if let secondsPer {
            let v = maxValue * secondsPer
            if v >= 1 { return (1 / secondsPer, "s") }
            if v >= 1e-3 { return (1e-3 / secondsPer, "ms") }
            return (1e-6 / secondsPer, "µs")
        }
        if unit == "bytes" {
            if maxValue >= 1_073_741_824 { return (1_073_741_824, "GiB") }
            if maxValue >= 1_048_576 { return (1_048_576, "MiB") }
            if maxValue >= 1024 { return (1024, "KiB") }
            return (1, "B")
        }
        return (1, "")
    }

    /// A value in a fixed scale: 3 decimals for scaled units, integers for whole counts.
    public static func number(_ v: Double, divisor: Double, suffix: String) -> String {
        let x = v / divisor
        if suffix.isEmpty || suffix == "B" {
            if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
            return fixed(x, 2)
        }
        return fixed(x, 3)
    }

    /// A value with its own unit, e.g. `1.234 s`, `12 samples`, `3.2 MiB`.
    public static func withUnit(_ v: Double, unit: String) -> String {
        let (d, s) = scale(unit: unit, maxValue: abs(v))
        let n = number(v, divisor: d, suffix: s)
        if !s.isEmpty { return "\(n) \(s)" }
        return unit == "count" || unit.isEmpty ? n : "\(n) \(unit.terminalSafe)"
    }

    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
        var p: Double = 1
        for _ in 0..<decimals { p *= 10 }
        let r = (abs(x) * p).rounded()
        if r >= 9e18 { return String(x) }
        let i = Int64(r)
        let whole = i / Int64(p)
        let frac = i % Int64(p)
        let sign = x < 0 && i != 0 ? "-" : ""
        if decimals == 0 { return sign + String(whole) }
        return sign + String(whole) + "." + String(frac).leftPad(decimals)
    }

    public static func percent(_ part: Double, of total: Double) -> String {
        guard total != 0 else { return "-" }
        return fixed(part / total * 100, 1) + "%"
    }

    /// `percent` for a column `width` characters wide: past it, without the decimal (`1879%`,
    /// `-400%`), and past that a bound (`>9999%`), so a share never runs into the next column or
    /// under the selection marker and loses a digit.
    public static func percent(_ part: Double, of total: Double, width: Int) -> String {
        let s = percent(part, of: total)
        guard s.count > width else { return s }
        let whole = fixed(part / total * 100, 0) + "%"
        guard whole.count > width else { return whole }
        let nines = String(repeating: "9", count: max(1, width - (part / total < 0 ? 3 : 2)))
        return (part / total < 0 ? "<-" : ">") + nines + "%"
    }
}
