import ProfileModel

/// The selected function's source file with the samples of each line beside it, scrolled to
/// the hottest line. Line data comes from formats that record executing lines (py-spy, austin,
/// pprof, perf); when the file cannot be found the per-line table is shown alone.
enum SourceView {
    static func draw(_ g: inout CellGrid, _ c: DrawContext, top: Int?) {
        let y0 = 1, height = max(1, g.height - 2)
        for y in y0..<(y0 + height) { g.fill(x: 0, y: y, count: g.width, role: .help) }
        guard let src = c.derived.source else { return }
        let (p, f, weights) = (src.profile, src.function, src.weights)
        let total = weights.values.reduce(0, +)
        let file = p.frames.file(ofFunction: f) ?? ""
        let lines = src.lines
        var title = p.frames.name(ofFunction: f) + (file.isEmpty ? "" : "  " + file)
        if lines == nil { title += file.isEmpty ? "  (no file recorded)" : "  (source not found; --source-root DIR)" }
        if p.estimatedTree { title += "  (this format records no executing lines)" }
        g.put(DisplayWidth.truncate(title, to: g.width - 2, ascii: c.options.ascii), x: 1, y: y0, role: .title)
        let bodyHeight = height - 1
        let first = top ?? src.top
        let maxWeight = weights.values.max() ?? 0
        let m = min(c.state.metric, p.metrics.count - 1)
        // Without line samples the definition line is the one marked.
        let definition = maxWeight > 0 ? nil : p.frames.line(ofFunction: f)
        if let lines {
            for i in 0..<bodyHeight {
                let ln = first + i
                guard ln >= 1 && ln <= lines.count else { break }
                drawLine(&g, c, y: y0 + 1 + i, line: ln, text: lines[ln - 1], weight: weights[ln] ?? 0,
                         share: total > 0 ? (weights[ln] ?? 0) / total : 0,
                         hottest: maxWeight > 0 ? weights[ln] == maxWeight : ln == definition,
                         unit: p.metrics[m].unit)
            }
        } else {
            // No source: the per-line table, hottest first.
            for (i, (ln, w)) in weights.sorted(by: { $0.value > $1.value }).prefix(bodyHeight).enumerated() {
                drawLine(&g, c, y: y0 + 1 + i, line: ln, text: "", weight: w, share: total > 0 ? w / total : 0,
                         hottest: w == maxWeight, unit: p.metrics[m].unit)
            }
        }
    }

    static func drawLine(_ g: inout CellGrid, _ c: DrawContext, y: Int, line: Int, text: String, weight: Double,
                         share: Double, hottest: Bool, unit: String) {
        let w = weight == 0 ? "" : ValueFormat.withUnit(weight, unit: unit)
        var x = g.put(String(repeating: " ", count: max(0, 12 - w.count)) + w, x: 0, y: y, role: weight == 0 ? .dim : Theme.heat(share))
        let marks = Int((share * 6).rounded(.up))
        x = g.put(" " + String(repeating: c.options.barFull, count: min(6, marks)) + String(repeating: " ", count: 6 - min(6, marks)),
                  x: x, y: y, role: .bar)
        let num = String(line)
        x = g.put(String(repeating: " ", count: max(0, 6 - num.count)) + num + (hottest ? (c.options.ascii ? ">" : "▶") : " ") + " ", x: x, y: y, role: hottest ? .heat4 : .dim)
        g.put(text.replacingOccurrences(of: "\t", with: "    "), x: x, y: y, role: hottest ? .header : .help)
    }
}
