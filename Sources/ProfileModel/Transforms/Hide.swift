extension Profile {
    /// Merges every node of the functions in `hidden` into its parent (its self weight moves up).
    public func hiding(_ hidden: Set<Int32>) -> Profile {
        guard !hidden.isEmpty else { return self }
        return rebuilt { f in
            let fn = frames.frameFunction[Int(f)]
            return fn < 0 || !hidden.contains(fn)
        }
    }
}
