/// A located, one-line error about an input file.
public struct ProfileError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var line: Int?
    public var offset: Int?
    public var file: String?

    public init(_ message: String, line: Int? = nil, offset: Int? = nil, file: String? = nil) {
        self.message = message
        self.line = line
        self.offset = offset
        self.file = file
    }

    /// `FILE:LINE: message` or `FILE@OFFSET: message`.
    public var description: String {
        var loc = file ?? "<input>"
        if let line { loc += ":\(line)" } else if let offset { loc += "@\(offset)" }
        return "\(loc): \(message)"
    }

    public func at(file: String) -> ProfileError {
        var e = self
        if e.file == nil { e.file = file }
        return e
    }
}
