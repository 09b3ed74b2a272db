/// Zero-filled memory for big random-access tables. From 4 MiB it is mapped directly and
/// asks for transparent huge pages: a probe into a 32 MB table with 4 KiB pages misses the
/// TLB as well as the cache.
enum ZeroedMemory {
    static let hugeFrom = HugePages.from
    static let huge = HugePages.size

    static func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        guard bytes >= hugeFrom else { return calloc(bytes, 1)! }
        // Over-map by one huge page so the table can start on a huge-page boundary.
        let total = bytes + huge
        // Out of memory ends the process, as a Swift array's allocation would (and `free` below
        // must only ever see mapped memory at this size).
        guard let base = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else { preconditionFailure("out of memory: \(bytes) bytes for a table") }
        let aligned = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
        let head = aligned - Int(bitPattern: base)
        if head > 0 { munmap(base, head) }
        let tail = total - head - bytes
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: aligned + bytes), tail) }
        let p = UnsafeMutableRawPointer(bitPattern: aligned)!
        HugePages.advise(p, bytes: bytes)
        return p
    }

    /// Hands back `bytes` from `p`, huge-page aligned, of a table mapped by `allocate` (one of
    /// `hugeFrom` bytes or more) before the rest of it is freed; `free` still takes the whole.
    static func freePart(_ p: UnsafeMutableRawPointer, bytes: Int) { munmap(p, bytes) }

    static func free(_ p: UnsafeMutableRawPointer, bytes: Int) {
        if bytes >= hugeFrom { munmap(p, bytes); return }
        Platform.freeMemory(p)
    }
}
