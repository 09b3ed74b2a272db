import Foundation
import Synchronization

/// Where a live stream comes from. `read` returns `.data(n)`, `.idle` when nothing arrived for
/// a while (the caller publishes pending samples), `.end`, or `.restart` when a followed file
/// was truncated or replaced.
public protocol LiveSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> LiveRead
    /// Unblocks a pending read (the viewer is quitting).
    func cancel()
}

public enum LiveRead: Equatable { case data(Int), idle, end, restart(String) }

public enum LiveState: Equatable, Sendable {
    case waiting, live, ended, error(String)

    public var label: String {
        switch self {
        case .waiting: "waiting"
        case .live: "live"
        case .ended: "ended"
        case .error: "error"
        }
    }
}

public struct LiveStatus: Sendable, Equatable {
    public var state: LiveState = .waiting
    public var samples = 0
    public var samplesPerSecond = 0.0
    /// The time window shown (seconds), nil for all samples.
    public var window: Int? = nil
    public var garbage = 0
    public var started = 0.0
    public var message: String? = nil
    /// Set once the live state reached its memory cap (`LiveIngest.memoryLimit`): the tree
    /// stopped growing and what arrived since is counted here, never added. Lines for text
    /// streams, bytes for MOJO (whose samples cannot be told apart without decoding them).
    public var capped = false
    public var dropped = 0
    public var droppedUnit = "lines"
    /// Bumped each time a new profile is published.
    public var generation = 0
    public init() {}
}

/// Reads a stream on a background thread, parses it incrementally and publishes a snapshot at
/// most 10 times a second. The viewer takes the latest snapshot whenever it likes; parsing
/// never runs on the UI thread. Memory grows with distinct stacks, not with samples.
public final class LiveIngest: @unchecked Sendable {
    private let lock = NSLock()
    private var latest: Profile?
    private var status = LiveStatus()
    private let source: LiveSource
    private let name: String
    /// Seconds since 1970; tests pass their own to move time without sleeping.
    private let clock: @Sendable () -> Double
    private var stopped = false
    private var window: Int? = nil
    private var windowChanged = false

    /// Weight added during each second of arrival (node << 8 | metric → value), for windows.
    /// Samples carry no timestamps in these formats, so they are stamped at arrival.
    private final class Buckets {
        var seconds: [Int] = []
        var weights: [[Int64: Double]] = []
        var current = -1

        func start(_ second: Int) {
            if second == current { return }
            current = second
            seconds.append(second)
            weights.append([:])
            while let first = seconds.first, second - first > 60 { seconds.removeFirst(); weights.removeFirst() }
        }

        func reset() { seconds = []; weights = []; current = -1 }

        /// Forgets the seconds that left a window of `w` seconds, and marks the nodes that
        /// have weight in the ones left.
        func keepWindow(_ w: Int, now: Int, marking keep: inout [Bool]) {
            while let first = seconds.first, now - first >= w { seconds.removeFirst(); weights.removeFirst() }
            for bucket in weights {
                for k in bucket.keys {
                    let node = Int(k >> 8)
                    if node < keep.count { keep[node] = true }
                }
            }
        }

        /// Renumbers the nodes after a compaction (`newId`: -1 for a dropped node).
        func remap(_ newId: [Int32]) {
            for i in weights.indices {
                var moved: [Int64: Double] = [:]
                moved.reserveCapacity(weights[i].count)
                for (k, v) in weights[i] {
                    let node = Int(k >> 8)
                    guard node < newId.count, newId[node] >= 0 else { continue }
                    moved[(Int64(newId[node]) << 8) | (k & 0xFF)] = v
                }
                weights[i] = moved
            }
        }

        func add(_ node: Int32, _ metric: Int, _ value: Double) {
            guard !weights.isEmpty else { return }
            weights[weights.count - 1][(Int64(node) << 8) | Int64(metric & 0xFF), default: 0] += value
        }

        func sum(lastSeconds w: Int, now: Int, nodes: Int, metrics: Int) -> [[Double]] {
            var out = [[Double]](repeating: [Double](repeating: 0, count: nodes), count: metrics)
            for (i, s) in seconds.enumerated() where now - s < w {
                for (k, v) in weights[i] {
                    let node = Int(k >> 8), m = Int(k & 0xFF)
                    if node < nodes && m < metrics { out[m][node] += v }
                }
            }
            return out
        }
    }
    private let buckets = Buckets()

    /// With a window on, the tree is rebuilt from the window's samples (`compact`) whenever it
    /// has grown to twice what the last rebuild kept, and at least to this many nodes: what
    /// left the window is forgotten, so a stream of ever new stacks stays bounded.
    var compactionFloor = 1 << 16
    /// The most tree nodes the live state held at once (for tests and the benchmark).
    private(set) var peakNodes = 0

    /// The memory the live state may take: `--max-memory`, as set when the ingest is made.
    public var memoryLimit = MemoryBudget.limit

    /// What the live state costs for each tree node and each distinct frame, beyond its
    /// strings: the builder's columns and child index, the frozen snapshots alive at once (the
    /// one published, the one the viewer adopted, the one being made) and the time window's
    /// per-second deltas. Measured with `perftop-bench --ingest` on streams of distinct stacks
    /// (VmHWM over the node and frame counts, BENCHMARKS.md); an estimate that errs high.
    public static let bytesPerNode = 600, bytesPerFrame = 400

    /// The live state's estimated memory for a builder's tree and frames.
    static func liveBytes(_ b: ProfileBuilder) -> Int {
        b.nodeCount * bytesPerNode + b.frames.frameCount * bytesPerFrame + 2 * b.frames.strings.bytes.count
    }

    /// A line for the status bar from whoever runs the stream (e.g. the sampler's pid or exit).
    public func note(_ text: String) {
        update { $0.message = text }
    }

    /// Shows only the samples of the last `seconds` (nil: all). Takes effect at the next publish.
    public func setWindow(_ seconds: Int?) {
        lock.lock()
        if window != seconds { window = seconds; windowChanged = true }
        lock.unlock()
    }

    public init(source: LiveSource, name: String,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.source = source
        self.name = name
        self.clock = clock
    }

    /// The newest profile (nil before the first samples) and the status.
    public func snapshot() -> (Profile?, LiveStatus) {
        lock.lock(); defer { lock.unlock() }
        return (latest, status)
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "perftop-ingest"
        t.start()
    }

    public func stop() {
        lock.lock(); stopped = true; lock.unlock()
        source.cancel()
    }

    /// Runs the ingestion loop on the calling thread until the stream ends (for tests and
    /// `perftop report -`).
    public func run() {
        let started = clock()
        update { $0.started = started }
        var parser: StreamParser? = nil
        var prefix: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var dirty = false
        var lastPublish = -Double.infinity
        /// What the last snapshot took to make (monotonic seconds). Freezing is O(tree): with a
        /// million distinct stacks a snapshot takes longer than the 100 ms between them, and
        /// parsing starved. The next snapshot waits at least 4 times as long as the last took,
        /// so parsing keeps 80% of the thread whatever the tree's size.
        var lastCost = 0.0
        var rate: [(Double, Int)] = []
        let limit = memoryLimit
        /// Past the memory cap: a text stream still gets the rest of the line the cap cut
        /// (until `lineOpen` clears), so the parser only ever sees whole lines.
        var capped = false, lineOpen = false, dropped = 0, droppedTail = false
        /// The cap was lifted (`liftCapIfWindowFreed`) in a dropped line: the parser resumes
        /// after its end.
        var resumeAtLine = false
        var lastCapCheck = -Double.infinity
        var keptByCompaction = 0
        func publish(force: Bool = false) {
            lock.lock()
            let w = window
            let changed = windowChanged
            windowChanged = false
            lock.unlock()
            guard let p = parser, dirty || force || changed || w != nil else { return }
            let now = clock()
            let started = LiveIngest.monotonic()
            if !force && !changed && started - lastPublish < max(w == nil ? 0.1 : 0.5, 4 * lastCost) { return }
            lastPublish = started
            dirty = false
            defer { lastCost = LiveIngest.monotonic() - started }
            var profile = p.snapshot(source: name)
            if let w {
                let sums = buckets.sum(lastSeconds: w, now: Int(now), nodes: profile.tree.count, metrics: profile.metrics.count)
                profile = profile.withSelfWeights(sums)
            }
            rate.append((now, p.samples))
            rate.removeAll { now - $0.0 > 2 }
            var perSecond = 0.0
            // Bounded, so a burst over a very short span cannot make a figure no Int holds.
            if let a = rate.first, let z = rate.last, rate.count > 1 {
                perSecond = min(1e15, Double(z.1 - a.1) / max(0.001, z.0 - a.0))
            }
            update {
                $0.samples = p.samples
                $0.garbage = p.garbage
                $0.capped = capped
                $0.dropped = dropped + (droppedTail ? 1 : 0)
                $0.droppedUnit = p.kind == .mojo ? "bytes" : "lines"
                $0.samplesPerSecond = perSecond
                $0.generation += 1
                $0.window = w
                if $0.state == .waiting { $0.state = .live }
            }
            lock.lock(); latest = profile; lock.unlock()
        }
        while true {
            lock.lock(); let stop = stopped; lock.unlock()
            if stop { return }
            let r: LiveRead
            do { r = try buf.withUnsafeMutableBytes { try source.read(into: $0) } } catch {
                publish(force: true)
                update { $0.state = .error("\(error)") }
                return
            }
            switch r {
            case .idle:
                publish()
            case .restart(let why):
                parser = nil
                prefix = []
                dirty = false
                capped = false; lineOpen = false; dropped = 0; droppedTail = false; resumeAtLine = false
                buckets.reset()
                rate = []
                update { $0.message = why; $0.samples = 0; $0.garbage = 0 }
            case .end:
                if parser == nil, !prefix.isEmpty {
                    let (kind, _) = StreamParser.sniff(prefix, complete: true)
                    if let kind {
                        let p = StreamParser(kind: kind)
                        record(p)
                        parser = p
                        if !feed(p, prefix) { return }
                    }
                }
                if parser == nil {
                    update { $0.state = prefix.isEmpty ? .ended : .error("not a folded, austin or MOJO stream (first bytes: \(FormatRegistry.describeBytes(prefix)))") }
                    return
                }
                // Past the cap a MOJO stream stopped mid-event, and a text stream's last line
                // was dropped (or is still open, and ends now).
                if !capped || (parser!.kind != .mojo && lineOpen) {
                    do { try parser!.finish() } catch { update { $0.state = .error("\(error)") } }
                }
                publish(force: true)
                update { if case .error = $0.state {} else { $0.state = .ended } }
                return
            case .data(let n):
                if let p = parser {
                    var keep = n, start = 0
                    if capped {
                        keep = buf.withUnsafeBytes { drop(p, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    } else if resumeAtLine {
                        // The rest of the line dropped before the cap was lifted.
                        guard let nl = buf[0..<n].firstIndex(of: 0x0A) else { continue }
                        resumeAtLine = false
                        start = nl + 1
                    }
                    if keep > start {
                        let ok = buf.withUnsafeBytes { feed(p, Array($0[start..<keep])) }
                        if !ok { return }
                        checkCap(p, endsLine: buf[keep - 1] == 0x0A)
                        compactIfDue(p)
                        dirty = true
                        publish()
                    } else {
                        // Nothing new in the tree: the count moves, no snapshot is made.
                        let (n, unit) = (dropped + (droppedTail ? 1 : 0), p.kind == .mojo ? "bytes" : "lines")
                        update { $0.capped = capped; $0.dropped = n; $0.droppedUnit = unit }
                        liftCapIfWindowFreed(p)
                    }
                    continue
                }
                prefix += buf[0..<n]
                let (kind, needMore) = StreamParser.sniff(prefix, complete: false)
                if let kind {
                    let p = StreamParser(kind: kind)
                    record(p)
                    parser = p
                    if !feed(p, prefix) { return }
                    checkCap(p, endsLine: prefix.last == 0x0A)
                    prefix = []
                    dirty = true
                    publish()
                } else if !needMore || prefix.count > 1 << 16 {
                    update { $0.state = .error("not a folded, austin or MOJO stream (first bytes: \(FormatRegistry.describeBytes(prefix)))") }
                    return
                }
            }
        }

        /// Rebuilds the tree from the window's samples when it is due (see `compactionFloor`).
        /// Checked after each chunk, between lines, when no parser holds a batch.
        func compactIfDue(_ p: StreamParser) {
            let n = p.builder.nodeCount
            peakNodes = max(peakNodes, n)
            lock.lock(); let w = window; lock.unlock()
            guard let w, n >= max(compactionFloor, 2 * keptByCompaction) else { return }
            compact(p, window: w)
        }

        /// Past the cap with a window on, the tree stops growing, so the rebuild that follows
        /// growth never comes: it is made here, at most once a second, and the tree grows
        /// again (from the next whole line) once the window's stacks take under half the
        /// limit, so that it does not stop again at once. MOJO, cut mid-event, stays capped.
        func liftCapIfWindowFreed(_ p: StreamParser) {
            lock.lock(); let w = window; lock.unlock()
            guard capped, let w, p.kind != .mojo, !lineOpen else { return }
            let now = clock()
            guard now - lastCapCheck >= 1 else { return }
            lastCapCheck = now
            compact(p, window: w)
            guard LiveIngest.liveBytes(p.builder) < limit / 2 else { return }
            capped = false
            if droppedTail { dropped += 1; droppedTail = false; resumeAtLine = true }
            dirty = true
        }

        func compact(_ p: StreamParser, window w: Int) {
            let n = p.builder.nodeCount
            var keep = [Bool](repeating: false, count: n)
            keep[0] = true
            buckets.keepWindow(w, now: Int(clock()), marking: &keep)
            // Parents come before their children: one backward pass keeps every kept node's path.
            p.builder.parent.withUnsafeBufferPointer { parent in
                for i in stride(from: n - 1, to: 0, by: -1) where keep[i] { keep[Int(parent[i])] = true }
            }
            buckets.remap(p.compact(keeping: keep))
            keptByCompaction = p.builder.nodeCount
        }

        /// Stops the tree's growth once the live state reaches the limit. Checked after each
        /// chunk, so it overshoots by at most one chunk's new stacks.
        func checkCap(_ p: StreamParser, endsLine: Bool) {
            guard !capped, LiveIngest.liveBytes(p.builder) >= limit else { return }
            capped = true
            lineOpen = p.kind != .mojo && !endsLine
        }

        /// Past the cap: counts what `bytes` holds (lines, or bytes for MOJO) and returns how
        /// many of its first bytes still go to the parser (the rest of the line the cap cut).
        func drop(_ p: StreamParser, _ bytes: UnsafeRawBufferPointer) -> Int {
            if p.kind == .mojo { dropped += bytes.count; return 0 }
            var start = 0
            if lineOpen {
                guard let nl = bytes.firstIndex(of: 0x0A) else { return bytes.count }
                lineOpen = false
                start = nl + 1
            }
            var newlines = 0
            for i in start..<bytes.count where bytes[i] == 0x0A { newlines += 1 }
            dropped += newlines
            if start < bytes.count { droppedTail = bytes[bytes.count - 1] != 0x0A }
            return start
        }

        func record(_ p: StreamParser) {
            let b = buckets
            p.builder.recorder = { b.add($0, $1, $2) }
        }

        /// Feeds bytes; a stream that breaks the format moves to error, keeping the last good profile.
        func feed(_ p: StreamParser, _ bytes: [UInt8]) -> Bool {
            buckets.start(Int(clock()))
            do {
                try bytes.withUnsafeBytes { try p.feed($0) }
                return true
            } catch {
                publish(force: true)
                update { $0.state = .error("\(error)") }
                return false
            }
        }
    }

    /// Seconds on a clock that only goes forward, for pacing snapshots (the injectable `clock`
    /// stamps samples; pacing is about real CPU time).
    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private func update(_ change: (inout LiveStatus) -> Void) {
        lock.lock(); change(&status); lock.unlock()
    }
}

/// A pipe or terminal: standard input, or a child's output.
public final class FDLiveSource: LiveSource {
    let fd: Int32
    /// Set by the viewer's thread, read by the ingest thread.
    private let cancelled = Atomic<Bool>(false)

    public init(fd: Int32) { self.fd = fd }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> LiveRead {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&pfd, 1, 100)
        if cancelled.load(ordering: .acquiring) { return .end }
        if r == 0 { return .idle }
        if r < 0 { if errno == EINTR { return .idle }; throw ProfileError("cannot read the stream (errno \(errno))") }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n < 0 { if errno == EINTR || errno == EAGAIN { return .idle }; throw ProfileError("cannot read the stream (errno \(errno))") }
        return n == 0 ? .end : .data(n)
    }

    public func cancel() { cancelled.store(true, ordering: .releasing) }
}

/// Follows a growing file like `tail -F`: waits at the end for more, and starts again when the
/// file is truncated or replaced (log rotation). When the name stops being a readable file (a
/// directory took its place), it waits for a file to come back, as `tail -F` does.
public final class FollowLiveSource: LiveSource {
    let path: String
    /// -1 while waiting for the name to be a readable file again.
    private var fd: Int32 = -1
    private var inode: UInt64 = 0
    private var offset = 0
    /// Set by the viewer's thread, read by the ingest thread.
    private let cancelled = Atomic<Bool>(false)

    public init(path: String) throws {
        self.path = path
        try open()
    }

    private func open() throws {
        let f = Glibc.open(path, O_RDONLY)
        guard f >= 0 else { throw ProfileError("cannot open (\(String(cString: strerror(errno))))", file: path) }
        var st = stat()
        fstat(f, &st)
        if (st.st_mode & S_IFMT) == S_IFDIR { Glibc.close(f); throw ProfileError("is a directory, not a profile", file: path) }
        fd = f
        inode = UInt64(st.st_ino)
        offset = 0
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> LiveRead {
        if cancelled.load(ordering: .acquiring) { return .end }
        if fd < 0 {
            if (try? open()) != nil { return .restart("\(path) is back; started again") }
            usleep(100_000)
            return .idle
        }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n > 0 { offset += n; return .data(n) }
        if n < 0 && errno != EINTR { throw ProfileError("cannot read (errno \(errno))", file: path) }
        // At the end: truncated, replaced, or just not written yet?
        var now = stat(), cur = stat()
        fstat(fd, &cur)
        if stat(path, &now) == 0 && UInt64(now.st_ino) != inode {
            Glibc.close(fd)
            fd = -1
            do { try open() } catch {
                let why = (error as? ProfileError)?.message ?? "\(error)"
                return .restart("\(path) was replaced and \(why); waiting for a file")
            }
            return .restart("\(path) was replaced; started again")
        }
        if Int(cur.st_size) < offset {
            lseek(fd, 0, SEEK_SET)
            offset = 0
            return .restart("\(path) was truncated; started again")
        }
        usleep(100_000)
        return .idle
    }

    public func cancel() { cancelled.store(true, ordering: .releasing) }
    deinit { if fd >= 0 { Glibc.close(fd) } }
}
