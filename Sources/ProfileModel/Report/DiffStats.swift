import Foundation

/// The statistics behind `perftop diff A... --vs B...`: small-sample, distribution-free tests
/// on per-run values. Pure functions, so they can be checked against an independent computation.
public enum DiffStats {
    public static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return 0 }
        let s = xs.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// C(n, k) as a Double (exact while it fits in 53 bits, which covers every enumeration done here).
    public static func choose(_ n: Int, _ k: Int) -> Double {
        guard k >= 0, k <= n else { return 0 }
        let k = min(k, n - k)
        var r = 1.0
        if k > 0 { for i in 1...k { r = r * Double(n - k + i) / Double(i) } }
        return r.rounded()
    }

    /// Midranks (1-based) of the pooled values: ties share the mean of their ranks.
    static func midranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let mid = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = mid }
            i = j + 1
        }
        return r
    }

    /// The smallest two-sided p-value the rank test can give with n and m runs (all runs of one
    /// side beyond all of the other): 2 / C(n+m, n). With 4 and 3 runs it is 2/35 = 0.057, so no
    /// level of 0.05 can ever be reached, corrected or not.
    public static func minimumP(_ n: Int, _ m: Int) -> Double { min(1, 2 / choose(n + m, n)) }

    /// Two-sided permutation p-value of the Wilcoxon-Mann-Whitney rank sum (midranks for ties):
    /// the fraction of all C(n+m, n) ways to split the pooled runs into sides of n and m whose
    /// rank sum is at least as far from its mean as the observed one. Exact by enumeration up to
    /// `exactLimit` splits; beyond that a fixed-seed sample of `samples` splits (with the +1 of an
    /// unbiased Monte Carlo p), so the output is reproducible.
    public static func rankTestP(_ x: [Double], _ y: [Double], exactLimit: Double = 200_000, samples: Int = 20_000) -> Double {
        let n = x.count, m = y.count
        guard n > 0, m > 0 else { return 1 }
        let ranks = midranks(x + y)
        let expected = Double(n) * Double(n + m + 1) / 2
        let observed = abs(ranks[0..<n].reduce(0, +) - expected)
        let eps = 1e-9 * max(1, expected)
        if choose(n + m, n) <= exactLimit {
            var hits = 0.0, all = 0.0
            var pick = Array(0..<n)
            while true {
                var s = 0.0
                for i in pick { s += ranks[i] }
                all += 1
                if abs(s - expected) >= observed - eps { hits += 1 }
                // Next n-subset of 0..<(n+m) in lexicographic order.
                var i = n - 1
                while i >= 0 && pick[i] == n + m - n + i { i -= 1 }
                if i < 0 { break }
                pick[i] += 1
                for j in (i + 1)..<n { pick[j] = pick[j - 1] + 1 }
            }
            return hits / all
        }
        var rng = SplitMix(seed: 0x5eed_d1ff)
        var idx = Array(0..<(n + m))
        var hits = 1.0
        for _ in 0..<samples {
            for i in 0..<n { idx.swapAt(i, i + Int(rng.next() % UInt64(n + m - i))) }
            var s = 0.0
            for i in 0..<n { s += ranks[idx[i]] }
            if abs(s - expected) >= observed - eps { hits += 1 }
        }
        return hits / Double(samples + 1)
    }

    /// Holm's step-down adjustment: adjusted p-values in the input order (monotone, capped at 1).
    public static func holm(_ p: [Double]) -> [Double] {
        let order = p.indices.sorted { p[$0] < p[$1] }
        var out = [Double](repeating: 1, count: p.count)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = max(running, min(1, Double(p.count - rank) * p[i]))
            out[i] = running
        }
        return out
    }

    /// Two-sided p-value of a standard normal z.
    public static func normalP(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
