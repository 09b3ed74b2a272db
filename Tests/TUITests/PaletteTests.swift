import Foundation
import XCTest
@testable import TUI

/// The palettes, judged by WCAG contrast (relative luminance of the xterm-256 colours), not by
/// their own tables: text on the terminal's background must stay readable, on a dark terminal
/// with the default theme and on a light one with `theme = "light"`.
final class PaletteTests: XCTestCase {
    /// xterm's 256-colour palette, indices 16-255 (the 6x6x6 cube, then the grey ramp).
    func rgb(_ i: Int16) -> (Double, Double, Double) {
        if i >= 232 { let v = Double(8 + 10 * (Int(i) - 232)); return (v, v, v) }
        let levels: [Double] = [0, 95, 135, 175, 215, 255]
        let n = Int(i) - 16
        return (levels[n / 36], levels[(n / 6) % 6], levels[n % 6])
    }

    func luminance(_ c: (Double, Double, Double)) -> Double {
        func lin(_ v: Double) -> Double { let s = v / 255; return s <= 0.03928 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4) }
        return 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
    }

    func contrast(_ a: Double, _ b: Double) -> Double { (max(a, b) + 0.05) / (min(a, b) + 0.05) }

    func testTextRolesAreReadableOnTheirBackground() {
        let white = luminance((255, 255, 255)), black = luminance((0, 0, 0))
        for light in [false, true] {
            for role in Role.allCases {
                let a = Theme.appearance(role, mode: .full256, light: light)
                guard a.fg >= 16 else { continue }
                // Text on the terminal's own background, or on the role's fill.
                let bg = a.bg >= 16 ? luminance(rgb(a.bg)) : light ? white : black
                let ratio = contrast(luminance(rgb(a.fg)), bg)
                XCTAssertGreaterThanOrEqual(ratio, 3, "\(role) \(light ? "light" : "dark"): fg \(a.fg) on \(a.bg) is \(ratio)")
            }
        }
    }

    /// The light palette only changes text colours; fills (status bar, selection, flame
    /// spans) carry their own background and stay.
    func testLightPaletteKeepsTheFills() {
        for role in Role.allCases {
            let dark = Theme.appearance(role, mode: .full256), light = Theme.appearance(role, mode: .full256, light: true)
            if dark.bg >= 0 { XCTAssertEqual(light, dark, "\(role)") }
            XCTAssertEqual(Theme.appearance(role, mode: .none, light: true), Theme.appearance(role, mode: .none))
        }
    }

    /// `editor` from config.toml comes before $EDITOR, which comes before vi.
    func testConfiguredEditorComesFirst() {
        let t = EditTarget(path: "a b.py", line: 7, exists: true)
        XCTAssertEqual(Editor.command(for: t, editor: "code --wait -g", environment: ["EDITOR": "nano"]),
                       ["/bin/sh", "-c", "code --wait -g \"$@\"", "perftop-editor", "+7", "a b.py"])
        XCTAssertEqual(Editor.command(for: t, editor: nil, environment: ["EDITOR": "nano"])[2], "nano \"$@\"")
        XCTAssertEqual(Editor.command(for: t, editor: " ", environment: [:])[2], "vi \"$@\"")
    }
}
