import NIOCore

/// One argument of a Redis command: text, raw bytes or a number, sent as a RESP bulk string.
public enum RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// Text, sent as its UTF-8 bytes.
    case string(String)
    /// Raw bytes, sent as they are.
    case bytes([UInt8])
    /// An integer, sent in decimal.
    case integer(Int64)
    /// A number, sent as Swift's `description` writes it (`1.5`, `0.1`).
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
    /// A key the command touches that is not among its arguments' key positions (a script that reads the keys it
    /// works on from ARGV): on a Redis Cluster, the command goes to the node that owns this key's slot. Not sent.
    public var routingKey: String?

    /// Creates a command from its name and arguments.
    public init(_ name: String, _ arguments: RedisArgument...) {
        self.arguments = [.string(name)] + arguments
    }

    /// Creates a command from its name and an array of arguments.
    public init(_ name: String, arguments: [RedisArgument]) {
        var all: [RedisArgument] = []
        all.reserveCapacity(arguments.count + 1)
        all.append(.string(name))
        all.append(contentsOf: arguments)
        self.arguments = all
    }

    /// A command whose name is `arguments[0]`.
    init(fullArguments arguments: [RedisArgument]) {
        self.arguments = arguments
    }

    /// This command, sent on a Redis Cluster to the node that owns `key` (see ``routingKey``).
    public func routed(by key: String?) -> RedisCommand {
        var command = self
        command.routingKey = key
        return command
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

    /// How long a blocking command may block, read from its own timeout argument; `nil` when it blocks forever
    /// (timeout 0) or is not a blocking command.
    var blockingTimeout: Duration? {
        func value(at index: Int) -> Double? {
            guard arguments.indices.contains(index) else { return nil }
            switch arguments[index] {
            case .integer(let number): return Double(number)
            case .double(let number): return number
            case .string(let text): return Double(text)
            case .bytes(let bytes): return Double(String(decoding: bytes, as: UTF8.self))
            }
        }
        let seconds: Double?
        switch name {
        case "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BZPOPMIN", "BZPOPMAX":
            seconds = value(at: arguments.count - 1)
        case "BLMPOP", "BZMPOP":
            seconds = value(at: 1)
        case "WAIT":
            seconds = value(at: arguments.count - 1).map { $0 / 1000 }
        case "XREAD", "XREADGROUP":
            let block = arguments.firstIndex { argument in
                if case .string(let text) = argument { return text.uppercased() == "BLOCK" }
                return false
            }
            seconds = block.flatMap { value(at: $0 + 1) }.map { $0 / 1000 }
        default:
            seconds = nil
        }
        guard let seconds, seconds > 0, seconds.isFinite else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// Appends the RESP encoding of the command (`*N\r\n$len\r\narg\r\n…`) to `buffer`.
    ///
    /// The exact size is computed first, so the buffer grows at most once and every byte is written through one
    /// pointer (writing piece by piece through `ByteBuffer` cost several times more for a 30-argument EVALSHA).
    public func encode(into buffer: inout ByteBuffer) {
        var size = 1 + RESPEncoding.digitCount(arguments.count) + 2
        var hasDouble = false
        for argument in arguments {
            let count: Int
            switch argument {
            case .string(let text): count = text.utf8.count
            case .bytes(let bytes): count = bytes.count
            case .integer(let value): count = RESPEncoding.digitCount(value)
            case .double(let value):
                count = value.description.utf8.count
                hasDouble = true
            }
            size += 1 + RESPEncoding.digitCount(count) + 2 + count + 2
        }
        if hasDouble {
            // Rare (BZPOPMIN timeouts): keep the simple path rather than formatting doubles twice by hand.
            encodeByPieces(into: &buffer)
            return
        }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var writer = RESPEncoding.Writer(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
            writer.header(UInt8(ascii: "*"), arguments.count)
            for argument in arguments {
                switch argument {
                case .string(var text):
                    text.withUTF8 { writer.bulk($0) }
                case .bytes(let bytes):
                    bytes.withUnsafeBufferPointer { writer.bulk($0) }
                case .integer(let value):
                    writer.header(UInt8(ascii: "$"), RESPEncoding.digitCount(value))
                    writer.decimal(value)
                    writer.crlf()
                case .double:
                    break
                }
            }
            return size
        }
    }

    private func encodeByPieces(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in arguments {
            let bytes: [UInt8]
            switch argument {
            case .string(let text): bytes = Array(text.utf8)
            case .bytes(let raw): bytes = raw
            case .integer(let value): bytes = Array(String(value).utf8)
            case .double(let value): bytes = Array(value.description.utf8)
            }
            buffer.writeStaticString("$")
            buffer.writeString(String(bytes.count))
            buffer.writeStaticString("\r\n")
            buffer.writeBytes(bytes)
            buffer.writeStaticString("\r\n")
        }
    }
}

/// Byte-level helpers of ``RedisCommand/encode(into:)``.
enum RESPEncoding {
    /// Decimal digits of `value`, with its minus sign.
    @inline(__always)
    static func digitCount(_ value: Int) -> Int { digitCount(Int64(value)) }

    static func digitCount(_ value: Int64) -> Int {
        var magnitude = value.magnitude
        var count = value < 0 ? 2 : 1
        while magnitude >= 10 {
            magnitude /= 10
            count += 1
        }
        return count
    }

    /// Writes through a pointer into memory the caller sized exactly.
    struct Writer {
        var pointer: UnsafeMutablePointer<UInt8>

        init(_ pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }

        @inline(__always)
        mutating func crlf() {
            pointer[0] = 13
            pointer[1] = 10
            pointer += 2
        }

        /// `<type><decimal>\r\n`, e.g. `*3\r\n` or `$5\r\n`.
        @inline(__always)
        mutating func header(_ type: UInt8, _ value: Int) {
            pointer.pointee = type
            pointer += 1
            decimal(Int64(value))
            crlf()
        }

        mutating func decimal(_ value: Int64) {
            let count = RESPEncoding.digitCount(value)
            var magnitude = value.magnitude
            if value < 0 { pointer.pointee = UInt8(ascii: "-") }
            var index = count - 1
            repeat {
                pointer[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                index -= 1
            } while magnitude > 0
            pointer += count
        }

        /// `$<count>\r\n<bytes>\r\n`.
        @inline(__always)
        mutating func bulk(_ bytes: UnsafeBufferPointer<UInt8>) {
            header(UInt8(ascii: "$"), bytes.count)
            if let base = bytes.baseAddress, bytes.count > 0 {
                pointer.update(from: base, count: bytes.count)
            }
            pointer += bytes.count
            crlf()
        }
    }
}
