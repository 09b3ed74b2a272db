#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns `frame;frame;...` text (root first) into a tree node, for the line-based readers
/// (folded, austin). Frame text is hashed straight from the input, so a known frame costs one
/// hash and a compare, and the previous line's nodes are reused for a shared prefix.
struct StackPath {
    private var rawFrames = ByteInterner(capacity: 4096)
    private var rawToFrame: [Int32] = []
    // The previous line's stack, its nodes and where each of its frames ends.
    private var prevStack: [UInt8] = []
    private var prevNodes: [Int32] = []
    private var prevEnds: [Int] = []

    /// The leaf node for the stack text `p[0..<n]`; `makeFrame` turns new frame text into a
    /// frame id (called once per distinct text).
    mutating func leaf(_ p: UnsafeRawPointer, _ n: Int, builder: ProfileBuilder,
                       makeFrame: (UnsafeRawPointer, Int) -> Int32) -> Int32 {
        var node: Int32 = 0
        var pos = 0
        var depth = 0
        let shared = prevStack.withUnsafeBytes { prev -> Int in
            let m = min(prev.count, n)
            guard m > 0, let a = prev.baseAddress else { return 0 }
            var i = 0
            while i + 8 <= m && a.loadUnaligned(fromByteOffset: i, as: UInt64.self) == p.loadUnaligned(fromByteOffset: i, as: UInt64.self) { i += 8 }
            while i < m && a.load(fromByteOffset: i, as: UInt8.self) == p.load(fromByteOffset: i, as: UInt8.self) { i += 1 }
            return i
        }
        if shared > 0 {
            // Deepest frame k of the previous line that ends at or before `shared` and also ends there in this line.
            var k = 0
            while k < prevEnds.count && prevEnds[k] <= shared {
                let e = prevEnds[k]
                if e == n || (e < n && p.load(fromByteOffset: e, as: UInt8.self) == 0x3B) { k += 1 } else { break }
            }
            if k > 0 {
                node = prevNodes[k - 1]
                pos = prevEnds[k - 1] + 1
                depth = k
            }
        }
        prevNodes.removeSubrange(depth...)
        prevEnds.removeSubrange(depth...)
        while pos < n {
            let rest = n - pos
            let semi = memchr(p + pos, 0x3B, rest)
            let len = semi.map { UnsafeRawPointer($0) - (p + pos) } ?? rest
            if len > 0 {
                var isNew = false
                let rid = rawFrames.intern(p + pos, len, isNew: &isNew)
                if isNew { rawToFrame.append(makeFrame(p + pos, len)) }
                node = builder.child(of: node, frame: rawToFrame[Int(rid)])
                prevNodes.append(node)
                prevEnds.append(pos + len)
            }
            pos += len + 1
        }
        prevStack.removeAll(keepingCapacity: true)
        prevStack.append(contentsOf: UnsafeRawBufferPointer(start: p, count: n))
        return node
    }
}
