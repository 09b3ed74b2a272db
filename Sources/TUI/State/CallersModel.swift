import ProfileModel

/// The callers/callees ("sandwich") view of one function: callers above, the function, callees
/// below, each with the weight that flows through that call.
public struct CallersModel {
    let function: Int32
    let callers: [CallEdge]
    let callees: [CallEdge]
    /// Diff mode: the base weight through each caller's and callee's call.
    var baseCallers: [Double] = []
    var baseCallees: [Double] = []

    var selfRow: Int { callers.count }
    var rowCount: Int { callers.count + 1 + callees.count }

    func function(at row: Int) -> Int32? {
        if row < 0 || row >= rowCount { return nil }
        if row < callers.count { return callers[row].function }
        if row == callers.count { return function }
        return callees[row - callers.count - 1].function
    }

    /// Screen lines: a heading, the callers, the function, a heading, the callees.
    func line(ofRow row: Int) -> Int {
        if row < callers.count { return row + 1 }
        if row == callers.count { return callers.count + 1 }
        return row + 2
    }

    var lineCount: Int { rowCount + 2 }
}

extension Session {
    /// `minPercent`: callers and callees whose call carries less than this share of the total
    /// (in `metric`) are left out, as the trees hide such rows.
    func callersModel(for f: Int32, in p: Profile, diff: (ProfileDiff, Profile, Int)? = nil,
                      minPercent: Double? = nil, metric: Int = 0) -> CallersModel {
        var callers = p.callers(of: f), callees = p.callees(of: f)
        if let pct = minPercent, pct > 0 {
            let m = min(metric, p.metrics.count - 1)
            let floor = p.total(metric: m) * pct / 100
            callers.removeAll { $0.weight[m] < floor }
            callees.removeAll { $0.weight[m] < floor }
        }
        var model = CallersModel(function: f, callers: callers, callees: callees)
        if let (d, base, bm) = diff {
            model.baseCallers = d.baseWeights(of: model.callers, of: f, callers: true, base: base, baseMetric: bm)
            model.baseCallees = d.baseWeights(of: model.callees, of: f, callers: false, base: base, baseMetric: bm)
        }
        return model
    }
}

extension AppState {
    func callersModel(deriver: any Deriver) -> CallersModel {
        let p = deriver.profile(for: self)
        let f = selectedFunction ?? -1
        guard f >= 0, Int(f) < p.functions.count else { return CallersModel(function: -1, callers: [], callees: []) }
        return deriver.cachedCallers(f, p, state: self)
    }
}
