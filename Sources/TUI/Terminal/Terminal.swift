import Foundation
import ProfileModel

/// What reaches the viewer's loop: a key, a new terminal size, the clock (nothing happened
/// for a while), or word that a live stream has a newer snapshot.
public enum Event: Equatable, Sendable {
    case key(Key)
    case resize(Size)
    case tick
    case snapshot
    case mouse(MouseEvent)
}

/// A screen and a keyboard. The curses adapter is the real one; `MemoryTerminal` plays it in
/// tests and `--batch`, so both run the same loop (`Viewer.loop`).
public protocol Terminal: AnyObject {
    var size: Size { get }
    var colorMode: ColorMode { get }
    var utf8: Bool { get }
    /// Shows the grid; `force` repaints every cell (after a resize, Ctrl-L or the editor).
    func draw(_ grid: CellGrid, force: Bool)
    /// The next event: `.tick` when nothing happened within the poll interval, nil when the
    /// input has ended. Throws `TerminalSignal` when a signal asked to stop.
    func nextEvent() throws -> Event?
    /// Gives the terminal to `body` (the editor) and takes it back.
    func handOver(_ body: () -> String?) -> String?
    /// The clock frames are drawn at (seconds since 1970).
    var now: Double { get }
}

extension Terminal {
    public var now: Double { Date().timeIntervalSince1970 }
}

extension CursesTerminal: Terminal {
    public func nextEvent() throws -> Event? {
        // A mouse report reads as no key; the adapter keeps the decoded event.
        guard let key = try readKey() else { return takeMouseEvent().map(Event.mouse) ?? .tick }
        return key == .resize ? .resize(size) : .key(key)
    }

    public func handOver(_ body: () -> String?) -> String? {
        let result: String? = suspend(body)
        return result
    }
}

/// A terminal in memory: events to replay, and every frame drawn, for tests and `--batch`.
public final class MemoryTerminal: Terminal {
    public private(set) var size: Size
    public let colorMode: ColorMode
    public let utf8: Bool
    public var events: [Event]
    /// Every grid drawn, with whether it was forced.
    public private(set) var frames: [(grid: CellGrid, forced: Bool)] = []
    /// How many times the terminal was handed over (to the editor).
    public private(set) var suspensions = 0
    /// The clock frames are drawn at: fixed, so frames are reproducible.
    public var now: Double = 0

    public init(size: Size, events: [Event], colorMode: ColorMode = .full256, utf8: Bool = true) {
        self.size = size; self.events = events; self.colorMode = colorMode; self.utf8 = utf8
    }

    public func draw(_ grid: CellGrid, force: Bool) { frames.append((grid, force)) }

    public func nextEvent() throws -> Event? {
        guard !events.isEmpty else { return nil }
        let e = events.removeFirst()
        if case .resize(let s) = e { size = s }
        return e
    }

    public func handOver(_ body: () -> String?) -> String? {
        suspensions += 1
        return body()
    }
}
