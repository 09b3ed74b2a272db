import Foundation

extension Profile {
    /// Functions whose name or file matches `query`, in smart case (case-insensitive unless
    /// the query has a capital letter), as the viewer's search, `--focus` and `--hide` match.
    /// An invalid regular expression throws.
    public func functions(matching query: String) throws -> Set<Int32> {
        let caseless = query == query.lowercased()
        let r = try NSRegularExpression(pattern: query, options: caseless ? [.caseInsensitive] : [])
        return functions { r.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
    }

    /// `functions(matching:)` that matches an invalid regular expression as plain text (in
    /// the same smart case) and sets `asText`, for a search typed key by key.
    public func functions(matching query: String, asText: inout Bool) -> Set<Int32> {
        asText = false
        guard !query.isEmpty else { return [] }
        if let found = try? functions(matching: query) { return found }
        asText = true
        let caseless = query == query.lowercased()
        return functions { caseless ? $0.lowercased().contains(query) : $0.contains(query) }
    }

    private func functions(where matches: (String) -> Bool) -> Set<Int32> {
        var out = Set<Int32>()
        for f in 0..<functions.count {
            let name = frames.name(ofFunction: Int32(f)), file = frames.file(ofFunction: Int32(f)) ?? ""
            if matches(name) || (!file.isEmpty && matches(file)) { out.insert(Int32(f)) }
        }
        return out
    }
}
