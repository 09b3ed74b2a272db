/// The bytes of a record that a chunk boundary cut, kept until the next chunk completes it.
/// Binary readers that decode whole records from chunks of any size (MOJO, Tachyon) feed their
/// input through it: the decoder sees the carried bytes and the new chunk as one buffer, and
/// only when something was carried is the chunk copied.
struct CarryOver {
    private var bytes: [UInt8] = []

    var isEmpty: Bool { bytes.isEmpty }
    var count: Int { bytes.count }

    /// Hands `consume` the carried bytes followed by `input`. `consume` decodes whole records
    /// and returns how many bytes it used; the rest is carried to the next call. `consume`
    /// must not reach back into this value (it is being modified).
    mutating func feed(_ input: UnsafeRawBufferPointer, _ consume: (UnsafeRawBufferPointer) throws -> Int) rethrows {
        guard input.count > 0 else { return }
        if bytes.isEmpty {
            let used = try consume(input)
            if used < input.count { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[used...])) }
        } else {
            bytes.append(contentsOf: input)
            let used = try bytes.withUnsafeBytes { try consume($0) }
            bytes.removeFirst(used)
        }
    }

    /// Drops what is carried (the input ended inside a record); returns how many bytes that was.
    mutating func drop() -> Int {
        defer { bytes = [] }
        return bytes.count
    }
}
