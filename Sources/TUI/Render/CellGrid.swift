import ProfileModel

/// What a cell means; a `Theme` turns roles into colours or monochrome attributes.
public enum Role: UInt8, Sendable, CaseIterable {
    case normal, header, status, statusKey, selection, dim, match, matchSelected
    case heat1, heat2, heat3, heat4       // cold → hot (percentages, bars)
    case bar, barEmpty
    case flame0, flame1, flame2, flame3, flame4, flame5, flame6, flame7   // flame palette slots
    case flameRemainder, flameSelected, flameMatch
    case help, helpKey, error, title
    // Diff mode: text that grew (red) or shrank (blue), weak → strong, and flame spans.
    case grew1, grew2, grew3, shrank1, shrank2, shrank3
    case flameGrew1, flameGrew2, flameGrew3, flameShrank1, flameShrank2, flameShrank3, flameSame
}

/// One terminal cell: a grapheme (already made safe) and its role. A wide grapheme occupies
/// its cell and a following `continuation` cell.
public struct Cell: Equatable, Sendable {
    public var text: String
    public var role: Role
    public var continuation: Bool

    public static let blank = Cell(text: " ", role: .normal, continuation: false)
    public init(text: String, role: Role, continuation: Bool = false) {
        self.text = text; self.role = role; self.continuation = continuation
    }
}

/// A fixed-size grid of cells: the output of drawing, before any terminal is involved.
/// `dump()` turns it into plain text for snapshot tests and `--batch`.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = [Cell](repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    /// Writes `text` at (x, y), clipped to `maxWidth` columns (default: to the right edge).
    /// Control characters are shown escaped; wide graphemes take two columns and are never
    /// split at the edge. Returns the column after the last one written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: Role, maxWidth: Int? = nil) -> Int {
        guard y >= 0 && y < height && x < width else { return x }
        let limit = min(width, x + (maxWidth ?? width))
        var col = x
        for g in text {
            for piece in DisplayWidth.safePieces(g) {
                let w = piece.width
                if col + w > limit { return col }
                if col >= 0 {
                    self[col, y] = Cell(text: piece.text, role: role)
                    if w == 2 { self[col + 1, y] = Cell(text: "", role: role, continuation: true) }
                }
                col += w
            }
        }
        return col
    }

    /// Writes a name and its location (`file:line`) from x to the right edge: the location is
    /// shortened from the left first (`…/json/decoder.py:343`), then the name gets an ellipsis.
    @discardableResult
    public mutating func putName(_ name: String, location: String, x: Int, y: Int, role: Role, locationRole: Role,
                                 ascii: Bool) -> Int {
        let room = width - x
        guard room > 0 else { return x }
        let nw = DisplayWidth.width(name)
        if nw >= room { return put(DisplayWidth.truncate(name, to: room, ascii: ascii), x: x, y: y, role: role) }
        var col = put(name, x: x, y: y, role: role)
        guard !location.isEmpty, room - nw > 4 else { return col }
        let left = room - nw - 2
        var loc = location
        if DisplayWidth.width(loc) > left {
            var tail = ""
            for ch in loc.reversed() {
                if DisplayWidth.width(tail) + DisplayWidth.width(String(ch)) > left - 1 { break }
                tail = String(ch) + tail
            }
            loc = (ascii ? "~" : "…") + tail
        }
        col = put("  " + loc, x: col, y: y, role: locationRole)
        return col
    }

    /// Fills `count` cells from (x, y) with `ch` in `role`.
    public mutating func fill(_ ch: String = " ", x: Int, y: Int, count: Int, role: Role) {
        guard y >= 0 && y < height else { return }
        var col = max(0, x)
        let end = min(width, x + count)
        while col < end { self[col, y] = Cell(text: ch, role: role); col += 1 }
    }

    /// The roles as text, one letter per cell (`.` for normal), with a legend: what a colour
    /// snapshot checks beyond the characters.
    public func dumpRoles() -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        func letter(_ r: Role) -> Character { r == .normal ? "." : letters[(Int(r.rawValue) - 1) % letters.count] }
        var used = Set<Role>()
        var out = ""
        for y in 0..<height {
            var line = ""
            for x in 0..<width { let r = self[x, y].role; used.insert(r); line.append(letter(r)) }
            out += line + "\n"
        }
        out += "legend: " + Role.allCases.filter { used.contains($0) && $0 != .normal }
            .map { "\(letter($0))=\($0)" }.joined(separator: " ") + "\n"
        return out
    }

    /// The grid as text, one line per row, trailing spaces trimmed.
    public func dump() -> String {
        var out = ""
        for y in 0..<height {
            var line = ""
            for x in 0..<width {
                let c = self[x, y]
                if !c.continuation { line += c.text }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

/// Column widths of graphemes as a terminal shows them (wcwidth-like, locale independent).
public enum DisplayWidth {
    public struct Piece { public var text: String; public var width: Int }

    /// Splits a grapheme into printable pieces: characters `TerminalSafe.isUnsafe` names (controls,
    /// escape sequences, bidi controls, zero-width characters) become visible `\xNN` / `\u{NNNN}`
    /// text wherever they sit in the grapheme, so a frame name can never drive the terminal.
    public static func safePieces(_ g: Character) -> [Piece] {
        let scalars = g.unicodeScalars
        guard scalars.contains(where: { TerminalSafe.isUnsafe($0) }) else {
            let w = width(of: g)
            return w == 0 ? [] : [Piece(text: String(g), width: w)]
        }
        var pieces: [Piece] = []
        var run = String.UnicodeScalarView()
        func flushRun() {
            guard !run.isEmpty else { return }
            for c in String(run) { let w = width(of: c); if w > 0 { pieces.append(Piece(text: String(c), width: w)) } }
            run = String.UnicodeScalarView()
        }
        for s in scalars {
            if TerminalSafe.isUnsafe(s) {
                flushRun()
                pieces += TerminalSafe.escaped(s).map { Piece(text: String($0), width: 1) }
            } else {
                run.append(s)
            }
        }
        flushRun()
        return pieces
    }

    public static func width(of g: Character) -> Int {
        guard let s = g.unicodeScalars.first else { return 0 }
        let v = s.value
        if v < 0x300 { return 1 }
        if g.unicodeScalars.contains(where: { $0.properties.isEmojiPresentation }) { return 2 }
        if s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .enclosingMark { return 0 }
        if isWide(v) { return 2 }
        return 1
    }

    static func isWide(_ v: UInt32) -> Bool {
        (v >= 0x1100 && v <= 0x115F) || (v >= 0x2E80 && v <= 0x303E) || (v >= 0x3041 && v <= 0x33FF)
            || (v >= 0x3400 && v <= 0x4DBF) || (v >= 0x4E00 && v <= 0x9FFF) || (v >= 0xA000 && v <= 0xA4CF)
            || (v >= 0xAC00 && v <= 0xD7A3) || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0xFE30 && v <= 0xFE4F)
            || (v >= 0xFF00 && v <= 0xFF60) || (v >= 0xFFE0 && v <= 0xFFE6) || (v >= 0x1F300 && v <= 0x1F64F)
            || (v >= 0x1F900 && v <= 0x1F9FF) || (v >= 0x20000 && v <= 0x3FFFD)
    }

    /// Display width of a whole string after escaping.
    public static func width(_ s: String) -> Int {
        s.reduce(0) { acc, g in acc + safePieces(g).reduce(0) { $0 + $1.width } }
    }

    /// `s` cut to at most `w` columns, with `…` (or `~` in ASCII) when cut.
    public static func truncate(_ s: String, to w: Int, ascii: Bool) -> String {
        if w <= 0 { return "" }
        if width(s) <= w { return s }
        var out = ""
        var used = 0
        let ell = ascii ? "~" : "…"
        for g in s {
            let gw = safePieces(g).reduce(0) { $0 + $1.width }
            if used + gw > w - 1 { break }
            out.append(g)
            used += gw
        }
        return out + ell
    }
}
