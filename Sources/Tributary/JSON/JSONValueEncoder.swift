import OrderedCollections

/// Encodes `Encodable` values into ``JSONValue`` trees, without going through JSON text or Foundation.
///
/// Mapping:
/// - keyed containers become objects whose members appear in the order they were encoded (synthesized `Codable`
///   conformances encode properties in declaration order); `Dictionary` keys appear in the dictionary's iteration
///   order;
/// - unkeyed containers become arrays; single-value containers become the value itself;
/// - `Bool` → ``JSONValue/bool(_:)``, `String` → ``JSONValue/string(_:)``;
/// - all fixed-width integers → ``JSONValue/int(_:)``; unsigned values above `Int64.max` throw
///   `EncodingError.invalidValue`;
/// - `Double` → ``JSONValue/double(_:)``; `Float` is widened through its shortest decimal form, so `Float(0.1)`
///   becomes `0.1` rather than `0.10000000149011612`. NaN and infinities are kept and serialize as `null`;
/// - `nil` optionals encoded with `encodeIfPresent` (the synthesized default) are omitted; `encodeNil` writes `null`;
/// - a nested value that requests no container at all becomes `{}`; at top level that is an error;
/// - `JSONValue` members are stored as they are.
///
/// Types with custom `Codable` implementations (such as `Date`, which encodes its seconds since 2001 as a
/// `Double`) are encoded exactly as their implementations dictate; nothing is special-cased.
public struct JSONValueEncoder: Sendable {
    /// Contextual information made available to `encode(to:)` implementations through `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates an encoder.
    public init() {}

    /// Returns the JSON form of `value`.
    ///
    /// - Throws: `EncodingError.invalidValue` when a value cannot be represented or when `value` encodes nothing,
    ///   and any error thrown by the value's `encode(to:)`.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue {
            return json
        }
        let encoder = JSONValueEncoderImpl(codingPath: [], userInfo: userInfo)
        try value.encode(to: encoder)
        guard let node = encoder.node else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values.")
            )
        }
        return node.resolved
    }
}

/// A growable JSON array under construction; a class so nested containers can keep appending to it.
final class EncodedArray {
    /// The elements encoded so far.
    var elements: [EncodedNode] = []
}

/// A JSON object under construction; a class so nested containers can keep adding members to it.
final class EncodedObject {
    /// The members encoded so far, in encoding order.
    var members: OrderedDictionary<String, EncodedNode> = [:]
}

/// A node of the tree built during encoding.
enum EncodedNode {
    /// A finished value.
    case value(JSONValue)
    /// An array that containers may still append to.
    case array(EncodedArray)
    /// An object that containers may still add members to.
    case object(EncodedObject)
    /// The result of a `superEncoder`, which the caller may fill in after creating it.
    case deferred(JSONValueEncoderImpl)

    /// The finished `JSONValue` for this node.
    var resolved: JSONValue {
        switch self {
        case .value(let value):
            return value
        case .array(let array):
            return .array(array.elements.map(\.resolved))
        case .object(let object):
            var members = JSONObject(minimumCapacity: object.members.count)
            for (key, node) in object.members {
                members[key] = node.resolved
            }
            return .object(members)
        case .deferred(let encoder):
            return encoder.node?.resolved ?? .object([:])
        }
    }
}

/// The `Encoder` handed to `encode(to:)` implementations by ``JSONValueEncoder``.
final class JSONValueEncoderImpl: Encoder {
    /// The path of keys leading to the value being encoded.
    let codingPath: [any CodingKey]
    /// Sendable user info from the ``JSONValueEncoder``.
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]
    /// What the value has encoded so far, or `nil` if it has not requested a container yet.
    var node: EncodedNode?

    /// Creates an encoder for the value at `codingPath`.
    init(codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.codingPath = codingPath
        self.sendableUserInfo = userInfo
    }

    /// Contextual information from ``JSONValueEncoder/userInfo``.
    var userInfo: [CodingUserInfoKey: Any] {
        sendableUserInfo
    }

    /// Returns a keyed container writing to this value's object, creating the object on first use.
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: EncodedObject
        if case .object(let existing)? = node {
            object = existing
        } else {
            object = EncodedObject()
            node = .object(object)
        }
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(encoder: self, object: object, codingPath: codingPath))
    }

    /// Returns an unkeyed container appending to this value's array, creating the array on first use.
    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: EncodedArray
        if case .array(let existing)? = node {
            array = existing
        } else {
            array = EncodedArray()
            node = .array(array)
        }
        return JSONUnkeyedEncodingContainer(encoder: self, array: array, codingPath: codingPath)
    }

    /// Returns a container that sets this value directly.
    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueEncodingContainer(encoder: self)
    }

    /// Sets this value to an already-built `JSONValue` (used by `JSONValue.encode(to:)`).
    func store(_ value: JSONValue) {
        node = .value(value)
    }

    /// Creates an encoder for a child value at `path` whose result is read when the tree is resolved.
    func deferredEncoder(at path: [any CodingKey]) -> JSONValueEncoderImpl {
        JSONValueEncoderImpl(codingPath: path, userInfo: sendableUserInfo)
    }

    /// Encodes a child value located at `path` and returns its node.
    func node(for value: some Encodable, at path: [any CodingKey]) throws -> EncodedNode {
        if let json = value as? JSONValue {
            return .value(json)
        }
        let child = JSONValueEncoderImpl(codingPath: path, userInfo: sendableUserInfo)
        try value.encode(to: child)
        return child.node ?? .object(EncodedObject())
    }

    /// The JSON form of an integer, which must fit in `Int64`.
    func integer<T: BinaryInteger & Encodable>(_ value: T, at path: [any CodingKey]) throws -> JSONValue {
        guard let number = Int64(exactly: value) else {
            throw EncodingError.invalidValue(
                value,
                EncodingError.Context(
                    codingPath: path,
                    debugDescription:
                        "\(T.self) value \(value) at \(describeCodingPath(path)) does not fit in a 64-bit signed JSON integer."
                )
            )
        }
        return .int(number)
    }

    /// The JSON form of a `Float`: the double with the same shortest decimal representation.
    func float(_ value: Float) -> JSONValue {
        guard value.isFinite else { return .double(Double(value)) }
        return .double(Double(value.description) ?? Double(value))
    }
}

/// Sets the encoder's value directly.
struct JSONSingleValueEncodingContainer: SingleValueEncodingContainer {
    /// The encoder whose value is set.
    let encoder: JSONValueEncoderImpl

    /// The path of the value being encoded.
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.store(.null) }
    mutating func encode(_ value: Bool) throws { encoder.store(.bool(value)) }
    mutating func encode(_ value: String) throws { encoder.store(.string(value)) }
    mutating func encode(_ value: Double) throws { encoder.store(.double(value)) }
    mutating func encode(_ value: Float) throws { encoder.store(encoder.float(value)) }
    mutating func encode(_ value: Int) throws { try storeInteger(value) }
    mutating func encode(_ value: Int8) throws { try storeInteger(value) }
    mutating func encode(_ value: Int16) throws { try storeInteger(value) }
    mutating func encode(_ value: Int32) throws { try storeInteger(value) }
    mutating func encode(_ value: Int64) throws { try storeInteger(value) }
    mutating func encode(_ value: UInt) throws { try storeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try storeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try storeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try storeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try storeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try encoder.node(for: value, at: codingPath)
    }

    /// Stores an integer after checking it fits in `Int64`.
    private func storeInteger<T: BinaryInteger & Encodable>(_ value: T) throws {
        encoder.store(try encoder.integer(value, at: codingPath))
    }
}
