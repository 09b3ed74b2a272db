import ProfileModel

/// How roles look on a terminal. The curses adapter asks the theme; drawing only names roles.
public enum ColorMode: Sendable, Equatable { case none, eight, full256 }

public struct RenderOptions: Sendable, Equatable {
    public var ascii: Bool
    public var color: ColorMode
    public init(ascii: Bool = false, color: ColorMode = .full256) { self.ascii = ascii; self.color = color }

    // Glyphs, degrading to ASCII.
    var expanded: String { ascii ? "-" : "▾" }
    var collapsed: String { ascii ? "+" : "▸" }
    var guide: String { ascii ? "|" : "│" }
    var barFull: String { ascii ? "#" : "█" }
    var barEmpty: String { ascii ? "." : "·" }
    var shade: String { ascii ? "#" : "░" }
    var arrowUp: String { ascii ? "^" : "▲" }
    var arrowDown: String { ascii ? "v" : "▼" }
}

/// A role's appearance: colours as xterm indices (-1 = terminal default) and attributes.
public struct Appearance: Sendable, Equatable {
    public var fg: Int16 = -1
    public var bg: Int16 = -1
    public var bold = false
    public var reverse = false
    public var underline = false
    public var dim = false
}

public enum Theme {
    /// The appearance of `role` in `mode`. Monochrome relies on reverse video and bold only.
    public static func appearance(_ role: Role, mode: ColorMode) -> Appearance {
        var a = Appearance()
        switch mode {
        case .none:
            switch role {
            case .header, .title, .helpKey, .statusKey: a.bold = true
            case .status: a.reverse = true
            case .selection, .flameSelected: a.reverse = true; a.bold = true
            case .match: a.underline = true; a.bold = true
            case .matchSelected, .flameMatch: a.reverse = true; a.underline = true
            case .heat4: a.bold = true
            case .dim, .barEmpty, .flameRemainder: a.dim = true
            case .flame0, .flame2, .flame4, .flame6: a.reverse = true
            case .error: a.bold = true; a.reverse = true
            case .grew3, .shrank3: a.bold = true
            case .flameGrew1, .flameGrew2, .flameGrew3, .flameShrank1, .flameShrank2, .flameShrank3: a.reverse = true
            default: break
            }
        case .eight:
            switch role {
            case .header, .title: a.bold = true; a.fg = 6
            case .status: a.fg = 0; a.bg = 6
            case .statusKey: a.fg = 0; a.bg = 6; a.bold = true
            case .selection: a.fg = 0; a.bg = 7
            case .dim, .barEmpty: a.fg = 4
            case .match: a.fg = 3; a.bold = true; a.underline = true
            case .matchSelected: a.fg = 3; a.bg = 7; a.underline = true
            case .heat1: a.fg = 2
            case .heat2: a.fg = 3
            case .heat3: a.fg = 1
            case .heat4: a.fg = 1; a.bold = true
            case .bar: a.fg = 1
            case .flame0, .flame4: a.fg = 0; a.bg = 1
            case .flame1, .flame5: a.fg = 0; a.bg = 3
            case .flame2, .flame6: a.fg = 0; a.bg = 5
            case .flame3, .flame7: a.fg = 0; a.bg = 2
            case .flameRemainder: a.fg = 7; a.bg = 0
            case .flameSelected: a.fg = 7; a.bg = 4; a.bold = true
            case .flameMatch: a.fg = 0; a.bg = 6
            case .help: break
            case .helpKey: a.fg = 3; a.bold = true
            case .error: a.fg = 7; a.bg = 1; a.bold = true
            case .grew1, .grew2: a.fg = 1
            case .grew3: a.fg = 1; a.bold = true
            case .shrank1, .shrank2: a.fg = 4; a.bold = true
            case .shrank3: a.fg = 4; a.bold = true; a.underline = true
            case .flameGrew1, .flameGrew2, .flameGrew3: a.fg = 7; a.bg = 1; a.bold = role == .flameGrew3
            case .flameShrank1, .flameShrank2, .flameShrank3: a.fg = 7; a.bg = 4; a.bold = role == .flameShrank3
            case .flameSame: a.fg = 0; a.bg = 7
            case .normal: break
            }
        case .full256:
            switch role {
            case .header, .title: a.bold = true; a.fg = 81
            case .status: a.fg = 252; a.bg = 238
            case .statusKey: a.fg = 229; a.bg = 238; a.bold = true
            case .selection: a.fg = 231; a.bg = 25
            case .dim, .barEmpty: a.fg = 244
            case .match: a.fg = 220; a.bold = true; a.underline = true
            case .matchSelected: a.fg = 220; a.bg = 25; a.bold = true; a.underline = true
            case .heat1: a.fg = 108
            case .heat2: a.fg = 178
            case .heat3: a.fg = 208
            case .heat4: a.fg = 196; a.bold = true
            case .bar: a.fg = 167
            // Warm flame palette, as flamegraph.pl: reds, oranges and yellows.
            case .flame0: a.fg = 16; a.bg = 203
            case .flame1: a.fg = 16; a.bg = 209
            case .flame2: a.fg = 16; a.bg = 215
            case .flame3: a.fg = 16; a.bg = 221
            case .flame4: a.fg = 16; a.bg = 167
            case .flame5: a.fg = 16; a.bg = 173
            case .flame6: a.fg = 16; a.bg = 179
            case .flame7: a.fg = 16; a.bg = 185
            case .flameRemainder: a.fg = 244; a.bg = 236
            case .flameSelected: a.fg = 231; a.bg = 25; a.bold = true
            case .flameMatch: a.fg = 16; a.bg = 51
            case .help: break
            case .helpKey: a.fg = 229; a.bold = true
            case .error: a.fg = 231; a.bg = 160; a.bold = true
            // Diff: red grew, blue shrank (differential flame graphs), stronger with the change.
            case .grew1: a.fg = 217
            case .grew2: a.fg = 210
            case .grew3: a.fg = 196; a.bold = true
            case .shrank1: a.fg = 153
            case .shrank2: a.fg = 111
            case .shrank3: a.fg = 33; a.bold = true
            case .flameGrew1: a.fg = 16; a.bg = 224
            case .flameGrew2: a.fg = 16; a.bg = 210
            case .flameGrew3: a.fg = 231; a.bg = 160
            case .flameShrank1: a.fg = 16; a.bg = 189
            case .flameShrank2: a.fg = 16; a.bg = 111
            case .flameShrank3: a.fg = 231; a.bg = 26
            case .flameSame: a.fg = 16; a.bg = 252
            case .normal: break
            }
        }
        return a
    }

    /// How strong a change is: 0 (under 0.1 % of the total), 1 (under 1 %), 2 (under 5 %) or 3.
    static func changeLevel(_ r: Double) -> Int {
        let a = abs(r)
        return a < 0.001 ? 0 : a < 0.01 ? 1 : a < 0.05 ? 2 : 3
    }

    /// Text role for a change that is a fraction `r` of the total (negative: shrank).
    static func change(_ r: Double) -> Role {
        let l = changeLevel(r)
        if l == 0 { return .dim }
        return r > 0 ? [.grew1, .grew2, .grew3][l - 1] : [.shrank1, .shrank2, .shrank3][l - 1]
    }

    /// Flame-span role for a change.
    static func flameChange(_ r: Double) -> Role {
        let l = changeLevel(r)
        if l == 0 { return .flameSame }
        return r > 0 ? [.flameGrew1, .flameGrew2, .flameGrew3][l - 1] : [.flameShrank1, .flameShrank2, .flameShrank3][l - 1]
    }

    /// `+` grew, `-` shrank, space unchanged: the change in monochrome.
    static func changeMark(_ r: Double) -> String { changeLevel(r) == 0 ? " " : r > 0 ? "+" : "-" }

    /// `+12.3%` / `-0.4%` / `0.0%`.
    static func signedPercent(_ r: Double) -> String {
        let p = r * 100
        if abs(p) < 0.05 { return "0.0%" }
        return (p > 0 ? "+" : "") + ValueFormat.fixed(p, abs(p) >= 100 ? 0 : 1) + "%"
    }

    /// Heat role for a fraction 0...1.
    static func heat(_ f: Double) -> Role {
        f >= 0.5 ? .heat4 : f >= 0.2 ? .heat3 : f >= 0.05 ? .heat2 : .heat1
    }
}
