import OrderedCollections

// `JSONValue` as a Codable type, so it can be embedded in Codable models (e.g. free-form job data inside a typed job
// record), plus the conveniences bridging Codable models to and from `JSONValue`.

extension JSONValue: Codable {
    /// Decodes a value of any JSON shape from `decoder`.
    ///
    /// With ``JSONValueDecoder`` the underlying value is taken as is (key order and the int/double distinction are
    /// kept). With other decoders the shape is probed in this order: null, Bool, Int64, Double, String, keyed
    /// container (object, in the order of the decoder's `allKeys`), unkeyed container (array).
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? JSONValueDecoderImpl {
            self = decoder.value
            return
        }
        if let single = try? decoder.singleValueContainer() {
            if single.decodeNil() {
                self = .null
                return
            }
            if let flag = try? single.decode(Bool.self) {
                self = .bool(flag)
                return
            }
            if let number = try? single.decode(Int64.self) {
                self = .int(number)
                return
            }
            if let number = try? single.decode(Double.self) {
                self = .double(number)
                return
            }
            if let text = try? single.decode(String.self) {
                self = .string(text)
                return
            }
        }
        if let keyed = try? decoder.container(keyedBy: JSONValueCodingKey.self) {
            var members = JSONObject()
            for key in keyed.allKeys {
                members[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key)
            }
            self = .object(members)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !unkeyed.isAtEnd {
                elements.append(try unkeyed.decode(JSONValue.self))
            }
            self = .array(elements)
            return
        }
        throw DecodingError.dataCorrupted(
            DecodingError.Context(
                codingPath: decoder.codingPath,
                debugDescription: "No JSON value could be decoded at \(describeCodingPath(decoder.codingPath))."
            )
        )
    }

    /// Encodes this value into `encoder`: scalars through a single-value container, arrays through an unkeyed
    /// container and objects through a keyed container (in key order). With ``JSONValueEncoder`` the value is
    /// stored as is.
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? JSONValueEncoderImpl {
            encoder.store(self)
            return
        }
        switch self {
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let flag):
            var container = encoder.singleValueContainer()
            try container.encode(flag)
        case .int(let number):
            var container = encoder.singleValueContainer()
            try container.encode(number)
        case .double(let number):
            var container = encoder.singleValueContainer()
            try container.encode(number)
        case .string(let text):
            var container = encoder.singleValueContainer()
            try container.encode(text)
        case .array(let elements):
            var container = encoder.unkeyedContainer()
            for element in elements {
                try container.encode(element)
            }
        case .object(let members):
            var container = encoder.container(keyedBy: JSONValueCodingKey.self)
            for (key, member) in members {
                try container.encode(member, forKey: JSONValueCodingKey(stringValue: key))
            }
        }
    }
}

extension JSONValue {
    /// Creates the JSON form of an `Encodable` value, using ``JSONValueEncoder``.
    ///
    /// - Throws: `EncodingError` when the value cannot be represented (e.g. a `UInt64` above `Int64.max`), or
    ///   any error thrown by the value's `encode(to:)`.
    public init(encoding value: some Encodable) throws {
        self = try JSONValueEncoder().encode(value)
    }

    /// Decodes a `Decodable` value from this JSON value, using ``JSONValueDecoder``.
    ///
    /// - Throws: `DecodingError` describing the first mismatch, with its coding path in both the error context
    ///   and the debug description.
    public func decode<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try JSONValueDecoder().decode(type, from: self)
    }
}

/// A coding key for arbitrary object member names and array indices.
struct JSONValueCodingKey: CodingKey, Hashable {
    /// The member name, or `Index n` for array positions.
    let stringValue: String
    /// The array position, or `nil` for member names.
    let intValue: Int?

    /// A key for the object member named `stringValue`.
    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    /// A key for the array element at position `intValue`.
    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    /// The key used by `superEncoder()` and `superDecoder()`.
    static let superKey = JSONValueCodingKey(stringValue: "super")
}

/// Renders a coding path for error messages: `'user.tags[1].name'`, or `the top level` for an empty path.
///
/// Array positions (keys with an `intValue` whose `stringValue` is `Index n`) are written in brackets; every other
/// key is written by its string value.
func describeCodingPath(_ path: [any CodingKey]) -> String {
    guard !path.isEmpty else { return "the top level" }
    var rendered = ""
    for key in path {
        if let index = key.intValue, key.stringValue == "Index \(index)" {
            rendered += "[\(index)]"
        } else {
            if !rendered.isEmpty { rendered += "." }
            rendered += key.stringValue
        }
    }
    return "'\(rendered)'"
}

extension JSONValue {
    /// A short description of this value for error messages: its kind and (abbreviated) JSON text,
    /// e.g. `string "abc"`, `int 42`, `object {"a":1,…}`.
    var errorSummary: String {
        if case .null = self { return "null" }
        let text = serialized()
        let limit = 40
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return "\(kindDescription) \(shown)"
    }
}
