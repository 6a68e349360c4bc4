/// One reply from a Redis server, as read by the RESP2 protocol.
///
/// Server error replies are values too (``RESPValue/error(_:)``) so that a reply inside an array, such as
/// one element of an `EXEC` reply, keeps its position; ``RedisClient/send(_:)`` turns a top-level error reply
/// into a thrown ``RedisServerError``.
public enum RESPValue: Sendable, Hashable {
    /// A status reply such as `+OK` or `+QUEUED`.
    case simpleString(String)
    /// An error reply such as `-ERR unknown command`.
    case error(RedisServerError)
    /// An integer reply.
    case integer(Int64)
    /// A bulk string: binary-safe bytes.
    case bulkString([UInt8])
    /// A null bulk string or a null array (RESP2 cannot tell them apart once parsed).
    case null
    /// An array of replies, possibly empty or nested.
    case array([RESPValue])

    /// The reply as text: a status or bulk string decoded as UTF-8, or an integer's decimal form.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    /// The reply as an integer: an integer reply, or a string reply holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let value): return Int(value)
        case .bulkString, .simpleString: return string.flatMap { Int($0) }
        default: return nil
        }
    }

    /// The reply's raw bytes, for bulk and status strings.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): return bytes
        case .simpleString(let text): return Array(text.utf8)
        default: return nil
        }
    }

    /// The elements of an array reply.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Whether the reply is a null bulk string or null array.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RESPValue: CustomStringConvertible {
    /// A readable rendering in the style of `redis-cli`, for logs and test failures.
    public var description: String {
        switch self {
        case .simpleString(let text): return text
        case .error(let error): return "(error) \(error.message)"
        case .integer(let value): return "(integer) \(value)"
        case .bulkString(let bytes): return "\"\(String(decoding: bytes, as: UTF8.self))\""
        case .null: return "(nil)"
        case .array(let elements): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

extension Array where Element == RESPValue {
    /// A flat `[field, value, field, value…]` reply (HGETALL, a stream entry, HSCAN's items) as a dictionary.
    /// Elements that are not strings are skipped with their partner; a field given twice keeps its last value.
    var fieldPairs: [String: String] {
        var result: [String: String] = [:]
        result.reserveCapacity(count / 2)
        var index = 0
        while index + 1 < count {
            if let field = self[index].string, let value = self[index + 1].string { result[field] = value }
            index += 2
        }
        return result
    }
}
