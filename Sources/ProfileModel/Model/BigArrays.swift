import CPrefetch

/// Big per-node arrays in transparent huge pages.
///
/// Loading a big profile touches ~170 MB of fresh memory (node columns, the child index, the
/// frozen tree's arrays). On this VM a first touch in 4 KiB pages costs ~0.7 ms per MB (a
/// fault, zeroing, and the host's own fault behind it), in 2 MiB pages ~0.2 ms per MB
/// (Scripts/pagetouch.c). The 105 MB folded benchmark took 43.6k page faults in 4 KiB pages.
/// The system's policy here is `madvise`, so memory is huge only where we ask.
///
/// A Swift array's buffer comes from malloc, which maps big blocks on their own; the kernel
/// starts a mapping on a 2 MiB boundary when its length is a multiple of 2 MiB. So big arrays
/// get a capacity that makes malloc's request just under such a multiple, and the whole
/// mapping, headers included, is asked to be huge: no 4 KiB pages at either end. glibc raises
/// its threshold for mapping blocks on their own each time one is freed (up to 32 MiB), after
/// which big arrays land unaligned in the heap: the threshold is pinned at 2 MiB instead (which
/// also returns freed big blocks to the system at once).
enum HugePages {
    /// Arrays from this size on ask for huge pages.
    static let from = 2 << 20
    static let size = 2 << 20
    /// Swift's array header and malloc's chunk header, with room to spare: a request of
    /// 2 MiB multiples minus this maps exactly those multiples (glibc).
    static let overhead = 128

    /// Asks for huge pages for the 2 MiB pages inside `p[0..<bytes]`, and for the one
    /// holding `p` when `p` is just past a 2 MiB boundary (a mapping's start, where malloc put
    /// the block). Advice, never an error.
    ///
    /// malloc and Swift have already written their headers there, so that first page is
    /// mapped in 4 KiB pages and would stay so, page by page, as it fills (512 faults): it is
    /// collapsed into a huge page at once instead (Linux 6.1's MADV_COLLAPSE; on older kernels
    /// the call fails and nothing changes). Scripts/pagetouch.c measures the three cases.
    static func advise(_ p: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        guard bytes >= from else { return }
        let a = Int(bitPattern: p)
        let down = a & ~(size - 1)
        let atMappingStart = a - down < overhead
        let start = atMappingStart ? down : (a + size - 1) & ~(size - 1)
        let end = (a + bytes + overhead) & ~(size - 1)
        guard end > start, let q = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(q, end - start, Int32(MADV_HUGEPAGE))
        if atMappingStart { _ = madvise(q, size, madvCollapse) }
        #endif
    }

    /// MADV_COLLAPSE (Linux ABI; newer than this glibc's headers).
    private static let madvCollapse: Int32 = 25

    /// At least `n` elements of `stride` bytes: for a big array, the capacity whose malloc
    /// request ends just short of a 2 MiB multiple.
    static func capacity(_ n: Int, stride: Int) -> Int {
        let bytes = n * stride
        guard bytes >= from else { return n }
        perftop_pin_mmap_threshold(Int32(from))
        let mapped = (bytes + overhead + size - 1) & ~(size - 1)
        return max(n, (mapped - overhead) / stride)
    }
}

extension Array where Element: BitwiseCopyable {
    /// `Array(repeating:count:)`, in huge pages when big.
    static func big(repeating value: Element, count: Int) -> [Element] {
        let stride = MemoryLayout<Element>.stride
        guard count * stride >= HugePages.from else { return Array(repeating: value, count: count) }
        let capacity = HugePages.capacity(count, stride: stride)
        return Array(unsafeUninitializedCapacity: capacity) { buffer, initialized in
            HugePages.advise(UnsafeMutableRawPointer(buffer.baseAddress!), bytes: capacity * stride)
            UnsafeMutableBufferPointer(rebasing: buffer[..<count]).initialize(repeating: value)
            initialized = count
        }
    }

    /// A copy of `other`, in huge pages when big.
    static func big(copying other: [Element]) -> [Element] {
        let count = other.count, stride = MemoryLayout<Element>.stride
        guard count * stride >= HugePages.from else { return Array(other) }
        let capacity = HugePages.capacity(count, stride: stride)
        return Array(unsafeUninitializedCapacity: capacity) { buffer, initialized in
            HugePages.advise(UnsafeMutableRawPointer(buffer.baseAddress!), bytes: capacity * stride)
            _ = other.withUnsafeBufferPointer { UnsafeMutableBufferPointer(rebasing: buffer[..<count]).initialize(fromContentsOf: $0) }
            initialized = count
        }
    }

    /// `reserveCapacity`, the new capacity in huge pages when big (only pages not yet touched
    /// become huge: call it before filling).
    mutating func reserveBig(_ n: Int) {
        let stride = MemoryLayout<Element>.stride
        guard n > capacity else { return }
        reserveCapacity(HugePages.capacity(n, stride: stride))
        let bytes = capacity * stride
        guard bytes >= HugePages.from else { return }
        let base = withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress) }
        if let base { HugePages.advise(base, bytes: bytes) }
    }
}

/// Memory a finished step leaves behind already faulted in (a dropped child index), lent to
/// the next step's temporary arrays: the merge's id map, `freeze`'s per-node scratch. Fresh
/// memory is the dear kind here (a first touch costs more than the pass that writes it), so
/// recycling the index saves ~40 MB of first touches on the 105 MB folded benchmark.
/// Taken memory is uninitialised. What the lender does not keep goes back to the system when
/// it is lent, so the peak stays where it was. Taking is thread-safe (two freeze passes share).
final class SpareMemory: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer?
    private let size: Int
    private var used = 0
    private var fresh: [(UnsafeMutableRawPointer, Int)] = []
    private let lock = Lock()

    /// No memory to lend: every `take` allocates (and `deinit` frees).
    convenience init() { self.init(mapping: nil, size: 0, keep: 0) }

    /// Lends the first `keep` bytes of `mapping[0..<size]` (a huge-page aligned mapping this
    /// takes over) and unmaps the rest now.
    init(mapping: UnsafeMutableRawPointer?, size: Int, keep: Int) {
        var kept = 0
        if let mapping, size > 0 {
            kept = min(size, (keep + HugePages.size - 1) & ~(HugePages.size - 1))
            if kept < size { munmap(mapping + kept, size - kept) }
        }
        base = kept > 0 ? mapping : nil
        self.size = kept
    }

    deinit {
        if let base { munmap(base, size) }
        for (p, n) in fresh { ZeroedMemory.free(p, bytes: n) }
    }

    /// Fresh memory of at least `bytes`, every page touched here (so faulted in and zeroed by
    /// the kernel on this thread), to lend as the others are.
    static func faulted(bytes: Int) -> SpareMemory {
        let size = max(ZeroedMemory.hugeFrom, (bytes + HugePages.size - 1) & ~(HugePages.size - 1))
        let p = ZeroedMemory.allocate(bytes: size)
        for offset in stride(from: 0, to: size, by: 4096) { p.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self) }
        return SpareMemory(mapping: p, size: size, keep: size)
    }

    /// How many bytes it lends in all.
    var capacity: Int { size }

    /// Room for `count` values of `T`, uninitialised, valid while this lives.
    func take<T>(_ count: Int, of: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = max(64, (count * MemoryLayout<T>.stride + 63) & ~63)
        let p: UnsafeMutableRawPointer = lock.withLock {
            if let base, used + bytes <= size {
                let p = base + used
                used += bytes
                return p
            }
            let p = ZeroedMemory.allocate(bytes: bytes)
            fresh.append((p, bytes))
            return p
        }
        return p.bindMemory(to: T.self, capacity: count)
    }
}

extension UnsafeMutablePointer {
    /// A new buffer of `capacity` values holding this one's first `count` (moved), this one
    /// freed: growing the raw per-batch buffers of `StackPath` and `NodeColumns`.
    func moved(count: Int, capacity: Int) -> UnsafeMutablePointer<Pointee> {
        let q = UnsafeMutablePointer<Pointee>.allocate(capacity: capacity)
        q.moveInitialize(from: self, count: count)
        deallocate()
        return q
    }
}

/// Big `Int32` columns made ahead on another core (their pages faulted in there), for a freeze
/// to take as its call tree's per-node arrays instead of new ones. A column is taken only when
/// it fits the count closely: the tree keeps it, so spare room would stay for the tree's life.
final class SpareColumns: @unchecked Sendable {
    private var columns: [[Int32]]

    /// `count` columns with room for `capacity` values each.
    init(count: Int, capacity: Int) {
        columns = (0..<count).map { _ in [Int32].big(repeating: 0, count: capacity) }
    }

    /// A column of `count` copies of `value`, or nil when none is left or fits.
    func take(_ count: Int, repeating value: Int32) -> [Int32]? {
        guard var a = columns.popLast(), a.capacity >= count, a.capacity - count <= count / 16 + (1 << 19) else { return nil }
        a.removeAll(keepingCapacity: true)
        a.append(contentsOf: repeatElement(value, count: count))
        return a
    }
}

/// A mutex (pthread: Swift's `Mutex` needs macOS 15) for the few objects two threads share.
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
