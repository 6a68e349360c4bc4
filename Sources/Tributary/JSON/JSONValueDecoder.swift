/// Decodes `Decodable` values from ``JSONValue`` trees, without going through JSON text or Foundation.
///
/// Mapping and conversions:
/// - keyed containers read objects, unkeyed containers read arrays; `Dictionary<String, _>` reads any object;
/// - integer types accept ``JSONValue/int(_:)`` values in their range and ``JSONValue/double(_:)`` values that are
///   integral and in range (`3.0` decodes as `3`); anything else is an error;
/// - `Double` and `Float` accept both number cases (an `Int64` is converted to the nearest double); a `Float` whose
///   value would overflow to infinity is an error;
/// - `Bool` accepts only `true`/`false` and `String` only strings (no coercion between them and numbers);
/// - optionals decode `null` and missing keys as `nil`; `null` for a non-optional is `DecodingError.valueNotFound`;
/// - ``JSONValue`` members receive the underlying value unchanged.
///
/// Every failure is a `DecodingError` whose context carries the coding path and whose `debugDescription` names that
/// path in readable form, e.g. `Expected to decode Int at 'user.tags[1]' but found string "x".`
public struct JSONValueDecoder: Sendable {
    /// Contextual information made available to `init(from:)` implementations through `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates a decoder.
    public init() {}

    /// Returns a value of type `type` decoded from `value`.
    ///
    /// - Throws: `DecodingError` (`typeMismatch`, `valueNotFound`, `keyNotFound` or `dataCorrupted`), with the
    ///   coding path, or any error thrown by the type's `init(from:)`.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoderImpl(value: value, codingPath: [], userInfo: userInfo).decode(type)
    }
}

/// The `Decoder` (and single-value container) handed to `init(from:)` implementations by ``JSONValueDecoder``.
struct JSONValueDecoderImpl: Decoder, SingleValueDecodingContainer {
    /// The value being decoded.
    let value: JSONValue
    /// The path of keys leading to ``value``.
    let codingPath: [any CodingKey]
    /// Sendable user info from the ``JSONValueDecoder``.
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]

    /// Creates a decoder for `value` found at `codingPath`.
    init(value: JSONValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.value = value
        self.codingPath = codingPath
        self.sendableUserInfo = userInfo
    }

    /// Contextual information from ``JSONValueDecoder/userInfo``.
    var userInfo: [CodingUserInfoKey: Any] {
        sendableUserInfo
    }

    /// A decoder for a child value at `path`.
    func child(_ value: JSONValue, at path: [any CodingKey]) -> JSONValueDecoderImpl {
        JSONValueDecoderImpl(value: value, codingPath: path, userInfo: sendableUserInfo)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw mismatch(expected: "an object", type: [String: JSONValue].self)
        }
        return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(decoder: self, members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw mismatch(expected: "an array", type: [JSONValue].self)
        }
        return JSONUnkeyedDecodingContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        self
    }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool {
        value.isNull
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(expected: "Bool", type: type) }
        return flag
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = value else { throw mismatch(expected: "String", type: type) }
        return text
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .double(let number): return number
        case .int(let number): return Double(number)
        default: throw mismatch(expected: "Double", type: type)
        }
    }

    func decode(_ type: Float.Type) throws -> Float {
        let number = try decode(Double.self)
        let narrowed = Float(number)
        if number.isFinite && !narrowed.isFinite {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Number \(value) at \(describeCodingPath(codingPath)) does not fit in Float."
                )
            )
        }
        return narrowed
    }

    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self, let json = value as? T {
            return json
        }
        return try T(from: self)
    }

    /// Decodes an integer from an int, or from an integral double, checking the range of `T`.
    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let converted: T?
        switch value {
        case .int(let number):
            converted = T(exactly: number)
        case .double(let number):
            guard number.rounded(.towardZero) == number else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: codingPath,
                        debugDescription:
                            "Expected to decode \(T.self) at \(describeCodingPath(codingPath)) but found non-integral number \(value)."
                    )
                )
            }
            converted = T(exactly: number)
        default:
            throw mismatch(expected: "\(T.self)", type: type)
        }
        guard let converted else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "Number \(value) at \(describeCodingPath(codingPath)) does not fit in \(T.self)."
                )
            )
        }
        return converted
    }

    /// The error for finding the wrong kind of value: `valueNotFound` for `null`, `typeMismatch` otherwise.
    func mismatch(expected: String, type: Any.Type) -> DecodingError {
        let context = DecodingError.Context(
            codingPath: codingPath,
            debugDescription:
                "Expected to decode \(expected) at \(describeCodingPath(codingPath)) but found \(value.errorSummary)."
        )
        if value.isNull {
            return DecodingError.valueNotFound(type, context)
        }
        return DecodingError.typeMismatch(type, context)
    }
}
