import NIOCore

/// One argument of a Redis command: text, raw bytes or a number, sent as a RESP bulk string.
public enum RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes([UInt8])
    case integer(Int64)
    case double(Double)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// An integer argument.
    public init(_ value: Int) { self = .integer(Int64(value)) }
    /// A text argument.
    public init(_ value: String) { self = .string(value) }
}

/// A Redis command: its name and arguments, ready to be encoded as a RESP array of bulk strings.
///
/// ```swift
/// let reply = try await client.send(RedisCommand("HSET", "user:1", "name", "Ada"))
/// ```
public struct RedisCommand: Sendable, Hashable {
    /// The name and all arguments, in order.
    public var arguments: [RedisArgument]

    /// Creates a command from its name and arguments.
    public init(_ name: String, _ arguments: RedisArgument...) {
        self.arguments = [.string(name)] + arguments
    }

    /// Creates a command from its name and an array of arguments.
    public init(_ name: String, arguments: [RedisArgument]) {
        self.arguments = [.string(name)] + arguments
    }

    /// The command's name in upper case (`GET`, `EVALSHA`…).
    public var name: String {
        guard case .string(let name)? = arguments.first else { return "" }
        return name.uppercased()
    }

    /// Whether the command blocks the connection while waiting (BZPOPMIN, BLPOP, XREAD BLOCK…), which makes
    /// ``RedisClient`` run it on a dedicated connection.
    public var isBlocking: Bool {
        switch name {
        case "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT":
            return true
        case "XREAD", "XREADGROUP":
            return arguments.dropFirst().contains { argument in
                if case .string(let text) = argument { return text.uppercased() == "BLOCK" }
                return false
            }
        default:
            return false
        }
    }

    /// Appends the RESP encoding of the command (`*N\r\n$len\r\narg\r\n…`) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeDecimal(arguments.count)
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            switch argument {
            case .string(let text):
                buffer.writeBulk(utf8Count: text.utf8.count) { $0.writeString(text) }
            case .bytes(let bytes):
                buffer.writeBulk(utf8Count: bytes.count) { $0.writeBytes(bytes) }
            case .integer(let value):
                let text = String(value)
                buffer.writeBulk(utf8Count: text.utf8.count) { $0.writeString(text) }
            case .double(let value):
                let text = value.description
                buffer.writeBulk(utf8Count: text.utf8.count) { $0.writeString(text) }
            }
        }
    }
}

extension ByteBuffer {
    @inline(__always)
    fileprivate mutating func writeDecimal(_ value: Int) {
        writeString(String(value))
    }

    @inline(__always)
    fileprivate mutating func writeBulk(utf8Count: Int, _ body: (inout ByteBuffer) -> Void) {
        writeStaticString("$")
        writeDecimal(utf8Count)
        writeStaticString("\r\n")
        body(&self)
        writeStaticString("\r\n")
    }
}
