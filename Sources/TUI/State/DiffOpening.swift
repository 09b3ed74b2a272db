import ProfileModel

extension AppState {
    /// A diff of repeated runs opens on its largest significant change (not on whatever grew
    /// most in share): the function's heaviest node in the opening view, or, when the change
    /// took it out of the new run entirely, its `gone` row in the functions table.
    mutating func openOnLargestChange(deriver: any Deriver, size: Size) {
        guard let largest = deriver.diffVerdicts?.largest else { return }
        let key = DiffVerdicts.key(largest.name, largest.file)
        func matches(_ p: Profile, _ f: Int) -> Bool {
            DiffVerdicts.key(p.frames.name(ofFunction: Int32(f)), p.frames.file(ofFunction: Int32(f))) == key
        }
        let p = deriver.profile(for: self)
        let m = min(metric, p.metrics.count - 1)
        if let f = (0..<p.functions.count).filter({ matches(p, $0) && p.functions.totalWeight[m][$0] > 0 })
            .max(by: { p.functions.totalWeight[m][$0] < p.functions.totalWeight[m][$1] }) {
            selectedFunction = Int32(f)
            syncViewToSelectedFunction(deriver: deriver, size: size)
            return
        }
        guard let bp = deriver.baseProfile(for: self) else { return }
        switchView(to: .functions, deriver: deriver, size: size)
        let rows = deriver.functionRows(for: self)
        guard let i = rows.firstIndex(where: { r in Session.goneId(r).map { matches(bp, Int($0)) } ?? false }) else { return }
        fnSelected = i
        let h = Layout(size: size).bodyHeight
        fnTop = max(0, min(i - h / 2, rows.count - h))
    }
}
