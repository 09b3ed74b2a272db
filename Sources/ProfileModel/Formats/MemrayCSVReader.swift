/// `memray transform csv` (FORMATS.md §11): a header
/// `allocator,num_allocations,size,tid,thread_name,stack_trace`, then one row per allocation
/// site alive at the high-water mark: its bytes and allocation count, and its stack as
/// `func;file;line` frames joined by `|`, most recent call first. Two metrics: memory (bytes,
/// the default) and allocations.
public enum MemrayCSVReader: ProfileReader {
    public static let name = "memray-csv"
    public static let title = "memray transform csv"

    static let header = "allocator,num_allocations,size,tid,thread_name,stack_trace"

    public static func sniff(_ prefix: UnsafeRawBufferPointer, complete: Bool) -> SniffResult {
        var first: Substring? = nil
        prefix.forEachLine(complete: complete) { l in first = l; return false }
        guard let first else {
            let head = String(decoding: UnsafeRawBufferPointer(rebasing: prefix[0..<min(prefix.count, header.utf8.count)]), as: UTF8.self)
            return !complete && header.hasPrefix(head) ? .needMore : .no
        }
        return first == header ? .yes : .no
    }

    public static func read(_ source: ByteSource, options: ReadOptions) throws -> ProfileBuilder {
        let p = MemrayCSVParser()
        try p.readLines(from: source)
        return try p.finish()
    }
}

final class MemrayCSVParser: LineParser {
    private(set) var lineNumber = 0
    let builder = ProfileBuilder(format: MemrayCSVReader.name,
                                 metrics: [ValueType("memory", "bytes"), ValueType("allocations", "count")],
                                 defaultMetric: 0)
    private var rows = 0
    private var threads: [String: Int32] = [:]
    private var allocators: [String: Int] = [:]
    private var frameCache: [String: Int32] = [:]
    private var noStack: Int32 = -1
    private var path: [Int32] = []
    static let maxDepth = 1 << 14

    /// Splits a CSV line into fields (RFC 4180 quoting, as Python's csv module writes it).
    static func fields(_ line: Substring) -> [Substring]? {
        var out: [Substring] = []
        var i = line.startIndex
        while true {
            if i < line.endIndex && line[i] == "\"" {
                var text = ""
                var j = line.index(after: i)
                while true {
                    guard j < line.endIndex else { return nil }           // unterminated quote
                    if line[j] == "\"" {
                        let k = line.index(after: j)
                        if k < line.endIndex && line[k] == "\"" { text.append("\""); j = line.index(after: k); continue }
                        j = k
                        break
                    }
                    text.append(line[j]); j = line.index(after: j)
                }
                out.append(Substring(text))
                guard j == line.endIndex || line[j] == "," else { return nil }
                if j == line.endIndex { return out }
                i = line.index(after: j)
            } else {
                let end = line[i...].firstIndex(of: ",") ?? line.endIndex
                out.append(line[i..<end])
                if end == line.endIndex { return out }
                i = line.index(after: end)
            }
        }
    }

    func line(_ b: UnsafeRawBufferPointer) throws {
        lineNumber += 1
        var text = Substring(String(decoding: b, as: UTF8.self))
        if text.hasSuffix("\r") { text = text.dropLast() }
        if lineNumber == 1 {
            guard text == Substring(MemrayCSVReader.header) else {
                throw ProfileError("expected the memray csv header '\(MemrayCSVReader.header)'", line: 1)
            }
            return
        }
        if text.isEmpty { return }
        guard let f = MemrayCSVParser.fields(text), f.count == 6 else {
            throw ProfileError("expected 6 comma-separated fields (allocator, num_allocations, size, tid, "
                               + "thread_name, stack_trace)", line: lineNumber)
        }
        guard let count = Double(f[1]), count.isFinite, count >= 0, let size = Double(f[2]), size.isFinite, size >= 0 else {
            throw ProfileError("num_allocations and size must be non-negative numbers", line: lineNumber)
        }
        rows += 1
        allocators[String(f[0]), default: 0] += 1
        path.removeAll(keepingCapacity: true)
        let threadName = String(f[4])
        if threadName != "merged thread" {
            let key = "\(f[3]) \(threadName)"
            if let t = threads[key] { path.append(t) } else {
                let label = threadName == String(f[3]) ? "thread \(threadName)" : "thread \(threadName) (tid \(f[3]))"
                let t = builder.frames.frame(name: label, file: nil, line: nil, kind: .thread)
                threads[key] = t
                path.append(t)
            }
        }
        let frames = f[5].isEmpty ? [] : f[5].split(separator: "|", omittingEmptySubsequences: false)
        if frames.count > MemrayCSVParser.maxDepth {
            throw ProfileError("stack of \(frames.count) frames (more than \(MemrayCSVParser.maxDepth))", line: lineNumber)
        }
        let base = path.count
        for fr in frames.reversed() {                           // most recent call first in the file
            if let known = frameCache[String(fr)] { path.append(known); continue }
            // func;file;line: the line after the last ';', the file before it, the rest is the name.
            var name = fr, file: Substring? = nil, lineNo: Int? = nil
            if let a = fr.lastIndex(of: ";") {
                let tail = fr[fr.index(after: a)...]
                if let n = Int(tail) {
                    lineNo = n > 0 ? n : nil
                    let head = fr[..<a]
                    if let c = head.lastIndex(of: ";") { name = head[..<c]; file = head[head.index(after: c)...] }
                    else { name = head }
                }
            }
            let id = builder.frames.frame(name: String(name), file: file.flatMap { $0.isEmpty ? nil : String($0) },
                                          line: lineNo, kind: .function)
            frameCache[String(fr)] = id
            path.append(id)
        }
        if path.count == base {
            if noStack < 0 { noStack = builder.frames.frame(name: "<no stack>", file: nil, line: nil, kind: .special) }
            path.append(noStack)
        }
        builder.addStack(path, weights: [size, count])
    }

    func finish() throws -> ProfileBuilder {
        guard lineNumber >= 1 else { throw ProfileError("empty memray csv (expected its header)", line: 1) }
        if rows == 0 { builder.warnings.append("no allocation rows after the header") }
        builder.metadata.append(("rows", String(rows)))
        builder.metadata.append(("allocators", allocators.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")))
        return builder
    }
}
