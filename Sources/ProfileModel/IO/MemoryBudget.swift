/// The most memory one allocation sized by a file's contents may take (`--max-memory`).
///
/// Readers check a size that comes from the input (a file's length, an inflated stream, a
/// count read from a header) before they allocate it, so a hostile or damaged file fails as a
/// located error ("needs N GB, more than the limit") instead of an out-of-memory abort. The
/// default is half of physical memory, at most 4 GiB: more than any real profile needs in one
/// piece (a 100 MB folded file takes ~0.4 GB in all), small enough not to swap.
public enum MemoryBudget {
    nonisolated(unsafe) public static var limit: Int = defaultLimit

    public static let defaultLimit: Int = {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        let physical = pages > 0 && size > 0 ? pages * size : 8 << 30
        return min(4 << 30, physical / 2)
    }()

    /// Throws when `bytes` exceeds the limit; `offset` is where in the input the size came from.
    @inline(__always)
    public static func check(_ bytes: Int, offset: Int? = nil) throws {
        if bytes > limit || bytes < 0 { throw failure(bytes, offset: offset) }
    }

    /// Checks `count * stride` without overflowing.
    public static func check(count: Int, stride: Int, offset: Int? = nil) throws {
        let (n, overflow) = count.multipliedReportingOverflow(by: max(stride, 1))
        if overflow || count < 0 { throw failure(Int.max, offset: offset) }
        try check(n, offset: offset)
    }

    public static func failure(_ bytes: Int, offset: Int? = nil) -> ProfileError {
        ProfileError("needs \(describe(bytes)), more than the limit (--max-memory \(describe(limit)))", offset: offset)
    }

    /// "3.2 GB", "640 MB": decimal units, as `ls -h --si` and `free --si` print.
    public static func describe(_ bytes: Int) -> String {
        let b = Double(max(0, bytes))
        if b >= 1e9 { return String(format1(b / 1e9)) + " GB" }
        return String(format1(max(b / 1e6, 0.1))) + " MB"
    }

    private static func format1(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        if r >= 1e6 { return ">1000000" }
        let whole = Int(r), tenth = Int(((r - Double(whole)) * 10).rounded())
        return tenth == 0 ? "\(whole)" : "\(whole).\(tenth)"
    }

    /// Parses `--max-memory` values: bytes, or with a K/M/G/T suffix (binary: 4G = 4 GiB).
    public static func parse(_ text: String) -> Int? {
        var t = Substring(text.uppercased())
        if t.hasSuffix("IB") || t.hasSuffix("B") { t = t.dropLast(t.hasSuffix("IB") ? 2 : 1) }
        var shift = 0
        if let last = t.last, let i = "KMGT".firstIndex(of: last) {
            shift = 10 * ("KMGT".distance(from: "KMGT".startIndex, to: i) + 1)
            t = t.dropLast()
        }
        guard let v = Double(t), v > 0, v.isFinite else { return nil }
        let bytes = v * Double(1 << shift)
        return bytes < 9e18 ? Int(bytes) : nil
    }

    /// Character devices that never end (`/dev/zero`, `/dev/urandom`, ...): reading one to the
    /// end would never finish. Linux's memory devices are major 1; `/dev/null` (1:3) is empty.
    public static func isEndlessDevice(fd: Int32) -> Bool {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR else { return false }
        #if os(Linux)
        let dev = UInt64(st.st_rdev)
        let major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
        let minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
        return major == 1 && minor != 3
        #else
        return false
        #endif
    }
}
