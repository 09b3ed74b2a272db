import ProfileModel

/// The callers/callees ("sandwich") view of one function: callers above, the function, callees
/// below, each with the weight that flows through that call.
struct CallersModel {
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
    func callersModel(for f: Int32, in p: Profile, diff: (ProfileDiff, Profile, Int)? = nil) -> CallersModel {
        var model = CallersModel(function: f, callers: p.callers(of: f), callees: p.callees(of: f))
        if let (d, base, bm) = diff {
            model.baseCallers = d.baseWeights(of: model.callers, of: f, callers: true, base: base, baseMetric: bm)
            model.baseCallees = d.baseWeights(of: model.callees, of: f, callers: false, base: base, baseMetric: bm)
        }
        return model
    }
}

extension AppState {
    func callersModel(session: Session) -> CallersModel {
        let p = session.profile(for: self)
        let f = selectedFunction ?? -1
        guard f >= 0, Int(f) < p.functions.count else { return CallersModel(function: -1, callers: [], callees: []) }
        return session.cachedCallers(f, p, state: self)
    }
}
