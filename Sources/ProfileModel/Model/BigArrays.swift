#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Big per-node arrays in transparent huge pages.
///
/// Loading a big profile touches ~170 MB of fresh memory (node columns, the child index, the
/// frozen tree's arrays). On this VM the first touch of a 4 KiB page costs ~0.6 ms per MB:
/// a fault, zeroing, and the host's own fault behind it; in 2 MiB pages, ~0.25 ms per MB.
/// `perf stat` on the 105 MB folded benchmark: 43.6k page faults and 952 ms of CPU with
/// 4 KiB pages, 17k and 700 ms with glibc asking for huge pages everywhere (BENCHMARKS.md).
/// The system's policy here is `madvise`, so memory is huge only where we ask.
enum HugePages {
    /// Arrays from this size on ask for huge pages.
    static let from = 4 << 20
    static let size = 2 << 20

    /// Asks for huge pages for the whole 2 MiB pages inside `p[0..<bytes]`, before their first
    /// touch. Memory already touched stays as it is; the request is advice, never an error.
    static func advise(_ p: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        guard bytes >= from else { return }
        let start = (Int(bitPattern: p) + size - 1) & ~(size - 1)
        let end = (Int(bitPattern: p) + bytes) & ~(size - 1)
        guard end > start, let q = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(q, end - start, Int32(MADV_HUGEPAGE))
        #endif
    }
}

extension Array where Element: BitwiseCopyable {
    /// `Array(repeating:count:)`, in huge pages when big.
    static func big(repeating value: Element, count: Int) -> [Element] {
        let bytes = count * MemoryLayout<Element>.stride
        guard bytes >= HugePages.from else { return Array(repeating: value, count: count) }
        return Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            HugePages.advise(UnsafeMutableRawPointer(buffer.baseAddress!), bytes: bytes)
            buffer.initialize(repeating: value)
            initialized = count
        }
    }

    /// A copy of `other`, in huge pages when big.
    static func big(copying other: [Element]) -> [Element] {
        let count = other.count, bytes = count * MemoryLayout<Element>.stride
        guard bytes >= HugePages.from else { return Array(other) }
        return Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            HugePages.advise(UnsafeMutableRawPointer(buffer.baseAddress!), bytes: bytes)
            _ = other.withUnsafeBufferPointer { buffer.initialize(fromContentsOf: $0) }
            initialized = count
        }
    }

    /// `reserveCapacity`, the new capacity in huge pages when big (only pages not yet touched
    /// become huge: call it before filling).
    mutating func reserveBig(_ n: Int) {
        reserveCapacity(n)
        let bytes = capacity * MemoryLayout<Element>.stride
        guard bytes >= HugePages.from else { return }
        let base = withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress) }
        if let base { HugePages.advise(base, bytes: bytes) }
    }
}
