import Foundation
import XCTest
@testable import ProfileModel

/// The diff's statistics against independent computations: the rank test's p-value against a
/// brute-force enumeration written differently (every subset of the pooled runs by bit mask, the
/// Mann-Whitney U counted pair by pair instead of from midranks), Holm against its definition.
final class DiffStatsTests: XCTestCase {
    /// Two-sided exact p of Mann-Whitney U (ties count one half), by enumerating all 2^(n+m)
    /// bit masks and keeping those with n bits set.
    func bruteForceP(_ x: [Double], _ y: [Double]) -> Double {
        let pooled = x + y, n = x.count, m = y.count
        func u(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for p in a { for q in b { s += p > q ? 1 : p == q ? 0.5 : 0 } }
            return s
        }
        let center = Double(n * m) / 2
        let observed = abs(u(x, y) - center)
        var hits = 0, all = 0
        for mask in 0..<(1 << (n + m)) where mask.nonzeroBitCount == n {
            var a: [Double] = [], b: [Double] = []
            for i in 0..<(n + m) { if mask & (1 << i) != 0 { a.append(pooled[i]) } else { b.append(pooled[i]) } }
            all += 1
            if abs(u(a, b) - center) >= observed - 1e-9 { hits += 1 }
        }
        return Double(hits) / Double(all)
    }

    func testRankTestMatchesBruteForceEnumeration() {
        // Hand-checkable: complete separation is 2 of C(6,3) = 20 splits, and of C(7,4) = 35.
        XCTAssertEqual(DiffStats.rankTestP([1, 2, 3], [4, 5, 6]), 2.0 / 20, accuracy: 1e-12)
        XCTAssertEqual(DiffStats.rankTestP([1, 2, 3, 4], [5, 6, 7]), 2.0 / 35, accuracy: 1e-12)
        XCTAssertEqual(DiffStats.minimumP(4, 3), 2.0 / 35, accuracy: 1e-12)
        XCTAssertEqual(DiffStats.minimumP(6, 4), 2.0 / 210, accuracy: 1e-12)
        // Real per-run values (cProfile self seconds of drop_blocked and of generate, before and
        // after), ties, zeros and unequal sizes.
        let cases: [([Double], [Double])] = [
            ([2.22, 2.339, 3.337, 5.105, 3.285, 2.475], [0.019, 0.051, 0.027, 0.016]),
            ([0.27, 0.27, 0.211], [0.349, 0.328, 0.329]),
            ([1, 1, 2, 3], [1, 2, 2]),
            ([0, 0, 0, 4], [0, 1, 0]),
            ([5, 5], [5, 5, 5]),
            ([3.1, 0.4, 2.2, 9.0, 1.5], [2.0, 0.3, 8.8, 7.7, 6.1, 0.9]),
        ]
        for (x, y) in cases {
            XCTAssertEqual(DiffStats.rankTestP(x, y), bruteForceP(x, y), accuracy: 1e-12, "\(x) vs \(y)")
            XCTAssertEqual(DiffStats.rankTestP(y, x), bruteForceP(x, y), accuracy: 1e-12, "symmetric: \(y) vs \(x)")
        }
        // The sampled path (beyond the exact limit) lands near the exact value.
        let x: [Double] = [3.1, 0.4, 2.2, 9.0, 1.5, 4.4, 0.2], y: [Double] = [2.0, 0.3, 8.8, 7.7, 6.1, 0.9, 5.5, 6.6]
        XCTAssertEqual(DiffStats.rankTestP(x, y, exactLimit: 10), bruteForceP(x, y), accuracy: 0.01)
    }

    func testHolmMatchesItsDefinition() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.5]
        // Sorted 0.005, 0.01, 0.03, 0.04, 0.5 times 5, 4, 3, 2, 1, made monotone, capped at 1.
        let sorted = p.sorted()
        var running = 0.0
        var bySortedRank: [Double] = []
        for (k, v) in sorted.enumerated() { running = max(running, min(1, Double(p.count - k) * v)); bySortedRank.append(running) }
        let expected = p.map { v in bySortedRank[sorted.firstIndex(of: v)!] }
        XCTAssertEqual(DiffStats.holm(p), expected)
        XCTAssertEqual(expected.map { ($0 * 1000).rounded() / 1000 }, [0.04, 0.09, 0.09, 0.025, 0.5])
    }

    func testMedianChooseAndNormal() {
        XCTAssertEqual(DiffStats.median([3, 1, 2]), 2)
        XCTAssertEqual(DiffStats.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(DiffStats.choose(10, 4), 210)
        XCTAssertEqual(DiffStats.choose(20, 10), 184_756)
        // Phi(1.959964) = 0.975.
        XCTAssertEqual(DiffStats.normalP(1.959964), 0.05, accuracy: 1e-6)
    }
}
