import CZlib

/// A stream of bytes read in chunks: a file, a pipe, a gzip stream or memory.
public protocol ByteSource: AnyObject {
    /// The number of bytes still to come, when known up front (a regular file); readers use it
    /// only to size buffers, never to trust the content.
    var sizeHint: Int? { get }
    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    public var sizeHint: Int? { nil }

    /// Reads everything, refusing to go past `limit` bytes or the memory budget (a gzip bomb or
    /// a sparse file fails as "needs N GB" before the memory is taken, not as an abort).
    public func readAll(limit: Int = Int.max) throws -> [UInt8] {
        let limit = min(limit, MemoryBudget.limit)
        guard let size = sizeHint, size > 0 else { return try readAll(after: [], limit: limit) }
        if size > limit { throw tooLarge(size + 1, limit: limit, offset: 0) }
        // A regular file's size: read straight into one buffer of that size, in huge pages when
        // big (in 4 KiB pages an 18 MB pstats file took 4.6k page faults, ~5% of its load).
        // The size is only a hint: if the file grew meanwhile, the buffer grows on.
        let want = size + 1
        var filledUp = false
        let out = try [UInt8](unsafeUninitializedCapacity: HugePages.capacity(want, stride: 1)) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            if want >= HugePages.from { HugePages.advise(raw.baseAddress!, bytes: raw.count) }
            var filled = 0
            while filled < want {
                let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled..<want]))
                if n == 0 { break }
                filled += n
            }
            initialized = filled
            filledUp = filled == want
        }
        if out.count > limit { throw tooLarge(out.count, limit: limit, offset: limit) }
        return filledUp ? try readAll(after: out, limit: limit) : out
    }

    private func tooLarge(_ bytes: Int, limit: Int, offset: Int) -> ProfileError {
        limit >= MemoryBudget.limit ? MemoryBudget.failure(bytes, offset: offset)
            : ProfileError("input larger than \(limit) bytes", offset: offset)
    }

    /// `readAll` appending chunk by chunk to `start`. Capacity doubles by hand, never past
    /// `limit`: left to `append`, a 1.6 GB buffer would become 3.2 GB before the check.
    private func readAll(after start: [UInt8], limit: Int) throws -> [UInt8] {
        var out = start
        try forEachChunk { c in
            let need = out.count + c.count
            if need > limit { throw tooLarge(max(need, 2 * out.count), limit: limit, offset: out.count) }
            if need > out.capacity { out.reserveCapacity(min(max(need, 2 * out.capacity), limit)) }
            out.append(contentsOf: c)
        }
        return out
    }

    /// Reads to the end in 128 KiB chunks, handing each to `body` (the streaming readers' loop).
    /// A chunk stays in the core's 1 MiB L2 cache beside the reader's own tables from the copy
    /// to the parse: 1 MiB chunks loaded the 105 MB folded benchmark 1.7% slower (25 rounds
    /// alternating, medians 0.264 and 0.260 s); 32 KiB to 256 KiB were within noise of 128.
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 17)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return }
            try chunk.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// Reads a file descriptor (file or pipe).
public final class FileSource: ByteSource {
    let fd: Int32
    let owned: Bool

    public init(fd: Int32, owned: Bool = false) { self.fd = fd; self.owned = owned }

    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ProfileError(String(cString: strerror(errno)).lowercased()) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ProfileError("is a directory")
        }
        self.fd = fd
        owned = true
    }

    deinit { if owned { close(fd) } }

    public var sizeHint: Int? { size }

    /// The size of a regular file at `path`, without opening it.
    public static func sizeOf(path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    public var size: Int? {
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(st.st_size)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ProfileError("read failed: " + String(cString: strerror(errno)))
        }
    }
}

/// Bytes `start..<end` of a regular file, read with `pread` (so two threads can read two
/// ranges of one descriptor at once).
public final class FileRangeSource: ByteSource {
    let fd: Int32
    var pos: Int
    let end: Int

    public init(fd: Int32, start: Int, end: Int) { self.fd = fd; pos = start; self.end = end }

    public var sizeHint: Int? { max(0, end - pos) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = min(buffer.count, end - pos)
        if want <= 0 { return 0 }
        while true {
            let n = pread(fd, buffer.baseAddress, want, off_t(pos))
            if n >= 0 { pos += n; return n }
            if errno == EINTR { continue }
            throw ProfileError("read failed: " + String(cString: strerror(errno)))
        }
    }
}

/// Serves bytes from memory, optionally in small chunks (tests flush out boundary bugs with 1 and 7).
public final class MemorySource: ByteSource {
    let bytes: [UInt8]
    var pos = 0
    let chunk: Int

    public init(_ bytes: [UInt8], chunk: Int = 1 << 20) { self.bytes = bytes; self.chunk = max(1, chunk) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, chunk, bytes.count - pos)
        if n <= 0 { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + pos, byteCount: n)
        }
        pos += n
        return n
    }
}

/// A source whose first bytes were already read (for sniffing) and are served again first.
public final class PrefixedSource: ByteSource {
    var prefix: [UInt8]
    var pos = 0
    let rest: ByteSource

    public init(prefix: [UInt8], rest: ByteSource) { self.prefix = prefix; self.rest = rest }

    /// When this is the start of a plain regular file (not gzip, not re-encoded) and nothing
    /// has been served yet: the file, the bytes already read from it, and its size.
    var untouchedFile: (file: FileSource, prefix: [UInt8], size: Int)? {
        guard pos == 0, let f = rest as? FileSource, let size = f.size,
              lseek(f.fd, 0, SEEK_CUR) == off_t(prefix.count) else { return nil }
        return (f, prefix, size)
    }

    public var sizeHint: Int? { rest.sizeHint.map { max($0, prefix.count) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if pos < prefix.count {
            let n = min(buffer.count, prefix.count - pos)
            prefix.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress! + pos, byteCount: n)
            }
            pos += n
            if pos == prefix.count { prefix = [] ; pos = Int.max }
            return n
        }
        return try rest.read(into: buffer)
    }
}

/// Inflates a gzip stream (several members are concatenated, as `gzip -c a b` writes).
public final class GzipSource: ByteSource {
    let inner: ByteSource
    var stream = z_stream()
    var input = [UInt8](repeating: 0, count: 1 << 18)
    var inputEnd = false
    var finished = false
    var inMember = false
    var membersDone = 0

    public init(_ inner: ByteSource) throws {
        self.inner = inner
        let rc = perftop_inflateInit2(&stream, 15 + 16)
        guard rc == Z_OK else { throw ProfileError("zlib init failed (\(rc))") }
    }

    deinit { inflateEnd(&stream) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        let want = min(buffer.count, Int(UInt32.max))
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(want)
        try input.withUnsafeMutableBytes { inBuf in
            while Int(stream.avail_out) == want {
                if stream.avail_in == 0 && !inputEnd {
                    let n = try inner.read(into: inBuf)
                    if n == 0 {
                        inputEnd = true
                    } else {
                        stream.next_in = inBuf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                        stream.avail_in = uInt(n)
                    }
                }
                if stream.avail_in == 0 && inputEnd {
                    if inMember || membersDone == 0 {
                        throw ProfileError("truncated gzip stream (expected more compressed data)",
                                           offset: Int(stream.total_in))
                    }
                    finished = true
                    return
                }
                let rc = inflate(&stream, Z_NO_FLUSH)
                switch rc {
                case Z_STREAM_END:
                    inMember = false
                    membersDone += 1
                    _ = inflateReset(&stream)
                case Z_OK, Z_BUF_ERROR:
                    inMember = true
                default:
                    if membersDone > 0 && !inMember { finished = true; return }  // trailing padding
                    let msg = stream.msg.map { String(cString: $0) } ?? "error \(rc)"
                    throw ProfileError("corrupt gzip data: \(msg)", offset: Int(stream.total_in))
                }
            }
        }
        return want - Int(stream.avail_out)
    }
}
