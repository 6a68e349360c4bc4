/// A failure to parse JSON text, as reported by jansson.
///
/// Positions follow jansson's conventions: ``line`` and ``column`` are 1-based, with ``column`` counting Unicode
/// characters (not bytes) from the start of the line, while ``position`` is the number of bytes consumed from the
/// start of the input when the error was detected. For errors detected at the very start of an empty input jansson
/// reports column 0.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line on which the error was detected.
    public var line: Int
    /// The column (in Unicode characters) on ``line`` at which the error was detected.
    public var column: Int
    /// The byte offset into the input at which the error was detected.
    public var position: Int
    /// jansson's explanation, e.g. `unexpected token near ','` or `duplicate object key near '"a"'`.
    public var message: String
    /// A name for the input (typically a file path) supplied by the caller of ``JSONValue/parse(_:source:)-(String,_)``,
    /// or `nil` for anonymous in-memory input.
    public var source: String?

    /// Creates a parse error from its parts.
    public init(line: Int, column: Int, position: Int, message: String, source: String? = nil) {
        self.line = line
        self.column = column
        self.position = position
        self.message = message
        self.source = source
    }

    /// The error as `line L, column C: message`, e.g. `line 2, column 13: unexpected token near ','`.
    public var description: String {
        "line \(line), column \(column): \(message)"
    }

    /// The error in the conventional compiler diagnostic form `file:line:column: message`, suitable for editors and
    /// CI annotations, e.g. `flows/etl.json:2:13: unexpected token near ','`.
    ///
    /// - Parameter file: The path to print; it takes precedence over ``source``.
    public func formatted(file: String) -> String {
        "\(file):\(line):\(column): \(message)"
    }

    /// The error as `source:line:column: message` when a ``source`` is known, otherwise as ``description``.
    public func formatted() -> String {
        if let source {
            return formatted(file: source)
        }
        return description
    }
}
