/// An immutable, order-preserving JSON document tree.
///
/// `JSONValue` is the in-memory form of every JSON payload Tributary exchanges with BullMQ peers (job data, options,
/// return values, flow definitions). Text is turned into a `JSONValue` with ``parse(_:source:)-(String,_)`` (backed by jansson) and back
/// into text with ``serialized()`` / ``prettyPrinted(indent:)`` (written in Swift, formatting numbers the way
/// JavaScript's `JSON.stringify` does).
///
/// Numbers keep the distinction JSON text makes: a literal without fraction or exponent is an ``int(_:)`` (64-bit),
/// anything else is a ``double(_:)``. An integer literal beyond 64 bits (Python's `2**70`) is read as the nearest
/// ``double(_:)``, as JavaScript and BullMQ's Node clients read it. Equality follows the cases, so `.int(1) != .double(1)`; use ``doubleValue`` or
/// ``intValue`` to compare numerically. Object key order is preserved and is significant for equality and hashing.
public enum JSONValue: Sendable, Hashable {
    /// The JSON literal `null`.
    case null
    /// The JSON literals `true` and `false`.
    case bool(Bool)
    /// A JSON number written without fraction or exponent, in the signed 64-bit range.
    case int(Int64)
    /// Any other JSON number. Non-finite values (NaN, ±infinity) have no JSON form and serialize as `null`.
    case double(Double)
    /// A JSON string. May contain any Unicode scalar, including U+0000.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object, with its key order preserved.
    case object(JSONObject)
}

// MARK: - Accessors

extension JSONValue {
    /// `true` when this value is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The payload of a ``bool(_:)``, otherwise `nil`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer this value holds: the payload of an ``int(_:)``, or a ``double(_:)`` whose value is integral and
    /// exactly representable as `Int64` (so `5.0` reads as `5`); otherwise `nil`.
    public var intValue: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int64(exactly: value)
        default: return nil
        }
    }

    /// The number this value holds as a `Double`: the payload of a ``double(_:)``, or an ``int(_:)`` widened to
    /// `Double` (which rounds integers beyond 2^53 to the nearest representable double); otherwise `nil`.
    public var doubleValue: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// The payload of a ``string(_:)``, otherwise `nil`.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements of an ``array(_:)``, otherwise `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members of an ``object(_:)``, otherwise `nil`.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The member named `key` when this value is an object that has it, otherwise `nil`.
    ///
    /// A member whose value is `null` is returned as `.null`, so `value["k"] == nil` means "absent" while
    /// `value["k"] == .null` means "present and null".
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The element at `index` when this value is an array and `index` is within bounds, otherwise `nil`.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// A short name for the kind of this value ("null", "bool", "int", "double", "string", "array", "object"),
    /// used in error messages.
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "double"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    /// Creates ``null`` from the `nil` literal.
    public init(nilLiteral: ()) {
        self = .null
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Creates a ``bool(_:)`` from a Boolean literal.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Creates an ``int(_:)`` from an integer literal.
    public init(integerLiteral value: Int64) {
        self = .int(value)
    }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Creates a ``double(_:)`` from a floating-point literal.
    public init(floatLiteral value: Double) {
        self = .double(value)
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Creates a ``string(_:)`` from a string literal.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Creates an ``array(_:)`` from an array literal.
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Creates an ``object(_:)`` from a dictionary literal, keeping the literal's key order.
    ///
    /// Like `Dictionary`'s literal initializer, a repeated key is a programming error and traps.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(uniqueKeysWithValues: elements))
    }
}

// MARK: - Description

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of this value, as produced by ``serialized()``.
    public var description: String {
        serialized()
    }
}
