/// The palette for terminals with a light background (`theme = "light"` in config.toml): the
/// dark palette's text colours chosen for a black background (pale yellow, light cyan, light
/// grey, pastel red and blue) are unreadable on white, so text roles get darker ones. Fills
/// (status bar, selection, flame spans) carry their own background and stay as they are.
extension Theme {
    public static func appearance(_ role: Role, mode: ColorMode, light: Bool) -> Appearance {
        var a = appearance(role, mode: mode)
        guard light else { return a }
        switch mode {
        case .none: break
        case .eight:
            switch role {
            case .header, .title: a.fg = 4
            case .match, .helpKey: a.fg = 5
            case .heat2: a.fg = 5
            case .dim, .barEmpty: a.fg = 4; a.dim = true
            default: break
            }
        case .full256:
            switch role {
            case .header, .title: a.fg = 25
            case .dim, .barEmpty: a.fg = 242
            case .match: a.fg = 130
            case .helpKey: a.fg = 94
            case .heat1: a.fg = 28
            case .heat2: a.fg = 136
            case .heat3: a.fg = 166
            case .heat4: a.fg = 160
            case .bar: a.fg = 124
            case .grew1: a.fg = 167
            case .grew2: a.fg = 160
            case .grew3: a.fg = 124
            case .shrank1: a.fg = 68
            case .shrank2: a.fg = 26
            case .shrank3: a.fg = 19
            default: break
            }
        }
        return a
    }
}
