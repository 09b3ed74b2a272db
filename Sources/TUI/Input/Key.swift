/// A key press, independent of the terminal that produced it.
public enum Key: Hashable, Sendable, CustomStringConvertible {
    case char(Character)
    case enter, esc, tab, backTab, backspace, delete
    case up, down, left, right, pgUp, pgDn, home, end
    case ctrl(Character)          // lower-case letter: .ctrl("c")
    case resize
    case function(Int)

    public var description: String {
        switch self {
        case .char(" "): return "Space"
        case .char(let c): return String(c)
        case .enter: return "Enter"
        case .esc: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Del"
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pgUp: return "PgUp"
        case .pgDn: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .ctrl(let c): return "C-\(c)"
        case .resize: return "Resize"
        case .function(let n): return "F\(n)"
        }
    }

    /// The name in ASCII (for help without UTF-8).
    public var asciiDescription: String {
        switch self {
        case .up: return "Up"
        case .down: return "Down"
        case .left: return "Left"
        case .right: return "Right"
        default: return description
        }
    }

    /// Parses the `--keys` syntax: characters as they are, and `<Enter>`, `<Esc>`, `<Tab>`,
    /// `<Up>`, `<Down>`, `<Left>`, `<Right>`, `<PgDn>`, `<PgUp>`, `<Home>`, `<End>`, `<BS>`,
    /// `<Space>`, `<C-x>`, `<F1>`, `<lt>` for a literal `<`.
    public static func parse(_ s: String) throws -> [Key] {
        var keys: [Key] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "<", let close = s[i...].firstIndex(of: ">"), close > s.index(after: i) {
                let name = String(s[s.index(after: i)..<close])
                guard let k = named(name) else { throw KeyParseError(name: name) }
                keys.append(k)
                i = s.index(after: close)
                continue
            }
            keys.append(c == "\n" || c == "\r" ? .enter : .char(c))
            i = s.index(after: i)
        }
        return keys
    }

    static func named(_ n: String) -> Key? {
        switch n.lowercased() {
        case "enter", "cr", "return": return .enter
        case "esc", "escape": return .esc
        case "tab": return .tab
        case "s-tab", "backtab": return .backTab
        case "up": return .up
        case "down": return .down
        case "left": return .left
        case "right": return .right
        case "pgdn", "pagedown": return .pgDn
        case "pgup", "pageup": return .pgUp
        case "home": return .home
        case "end": return .end
        case "bs", "backspace": return .backspace
        case "del", "delete": return .delete
        case "space": return .char(" ")
        case "lt": return .char("<")
        case "gt": return .char(">")
        default: break
        }
        let lower = n.lowercased()
        if lower.hasPrefix("c-"), n.count == 3, let c = lower.last { return .ctrl(c) }
        if lower.hasPrefix("f"), let num = Int(lower.dropFirst()), (1...12).contains(num) { return .function(num) }
        return nil
    }
}

public struct KeyParseError: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "unknown key <\(name)> in --keys" }
}

/// A mouse event at a cell (0-based column and row), decoded by the terminal adapter.
/// A second press on the same cell soon after the first is a double click.
public struct MouseEvent: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case press, doubleClick, wheelUp, wheelDown }
    public var kind: Kind
    public var x: Int
    public var y: Int
    public init(_ kind: Kind, x: Int, y: Int) { self.kind = kind; self.x = x; self.y = y }

    /// How far apart (seconds) two presses on one cell may be to make a double click.
    public static let doubleClickInterval = 0.4
}
