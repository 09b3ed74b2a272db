/// Tachyon's `-o` pstats dump (FORMATS.md §8.3), marked by the key `("__sampled__",)`: the
/// marshal dict of cProfile, but every entry is `(direct samples, cumulative samples,
/// direct × interval, cumulative × interval, {caller: samples through that call})`, keyed by
/// the *sampled* line. It is a sampled profile: samples are the metric, nothing counts calls.
/// Functions stay per line, as keyed: a recursive function sampled at two lines is in both
/// lines' cumulative counts, so adding the lines up would count those samples twice.
extension StatsAccumulator {
    mutating func finishSampled() {
        let F = builder.frames.functionCount
        while tt.count < F { tt.append(0); ct.append(0); nc.append(-1); cc.append(-1); isEntry.append(false) }
        // `entry` keeps min and max of the first two fields: direct ≤ cumulative always.
        let direct = cc.map { Double(max($0, 0)) }, cumulative = nc.map { Double(max($0, 0)) }
        let samples = direct.reduce(0, +)
        // The interval the dump used: its times are the counts times it.
        let interval = samples > 0 ? tt.reduce(0, +) / samples : 0
        var edgeSamples = [Double](repeating: 0, count: eCaller.count)
        for e in 0..<eCaller.count { edgeSamples[e] = Double(max(eCalls[e], 0)) }
        let edgeTime = edgeSamples.map { $0 * interval }
        builder.setMetric(0, ValueType("samples", "count"))
        builder.addMetric(ValueType("time", "seconds"))
        builder.defaultMetric = 0
        builder.exactFunctions = FunctionTable(
            count: F, selfWeight: [direct, tt], totalWeight: [cumulative, ct], calls: nil, primitiveCalls: nil,
            edgeCaller: eCaller, edgeCallee: eCallee, edgeWeight: [edgeSamples, edgeTime], edgeCalls: nil)
        // Damaged counts can sum past what an Int holds (found by libFuzzer): no count then.
        builder.sampleCount = samples >= 0 && samples < 9e18 ? Int(samples) : nil
        if skippedKeys > 0 { builder.warnings.append("\(skippedKeys) entries with an unexpected key skipped") }
        builder.metadata.append(("sampled", "true"))
        if interval > 0, case let us = (interval * 1e6).rounded(), us < 9e18 {
            builder.metadata.append(("interval", "\(Int(us)) µs"))
        }
        // The estimate shares each function's cumulative samples among its callees by the
        // samples through each call; samples a function had with no recorded caller (the
        // stack's root) root it, as outside calls do for cProfile.
        let counts = nc.map { max($0, 0) }
        CallGraphEstimate(count: F, selfWeight: [direct, tt], totalWeight: [cumulative, ct], calls: counts,
                          primitiveCalls: counts, isEntry: isEntry, edgeCaller: eCaller, edgeCallee: eCallee,
                          edgeWeight: [edgeSamples, edgeTime], edgeCalls: eCalls).build(into: builder)
    }
}
