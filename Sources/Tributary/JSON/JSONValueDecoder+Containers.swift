// Keyed and unkeyed containers of `JSONValueDecoderImpl`. Each element is decoded by a child decoder whose coding
// path extends the container's, so errors deep inside a value report where they happened.

/// Reads members of a JSON object.
struct JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    /// The decoder of the object itself.
    let decoder: JSONValueDecoderImpl
    /// The object's members.
    let members: JSONObject

    /// The path of the object.
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The member names that `Key` accepts, in the object's order.
    var allKeys: [Key] {
        members.keys.compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool {
        members[key.stringValue] != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try member(key).value.isNull
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try member(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(key).decodeInteger(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(key).decodeInteger(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try member(key).decodeInteger(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try member(key).decodeInteger(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try member(key).decodeInteger(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(key).decodeInteger(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try member(key).decodeInteger(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try member(key).decodeInteger(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try member(key).decodeInteger(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(key).decodeInteger(type) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try member(key).decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        superDecoder(named: JSONValueCodingKey.superKey)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        superDecoder(named: key)
    }

    /// A decoder for the member named `key`, reading `null` when it is absent (as Foundation's decoders do).
    private func superDecoder(named key: any CodingKey) -> any Decoder {
        decoder.child(members[key.stringValue] ?? .null, at: codingPath + [key])
    }

    /// A decoder for the member named `key`, which must be present.
    private func member(_ key: Key) throws -> JSONValueDecoderImpl {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription:
                        "No value for key '\(key.stringValue)' in the object at \(describeCodingPath(codingPath)) (path \(describeCodingPath(codingPath + [key])))."
                )
            )
        }
        return decoder.child(value, at: codingPath + [key])
    }
}

/// Reads the elements of a JSON array in order.
struct JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    /// The decoder of the array itself.
    let decoder: JSONValueDecoderImpl
    /// The array's elements.
    let elements: [JSONValue]
    /// The index of the next element to decode; it only advances when a decode succeeds.
    private(set) var currentIndex = 0

    /// Creates a container positioned at the first element.
    init(decoder: JSONValueDecoderImpl, elements: [JSONValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    /// The path of the array.
    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The number of elements in the array.
    var count: Int? { elements.count }

    /// Whether every element has been decoded.
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func decodeNil() throws -> Bool {
        let element = try next(Never?.self)
        if element.value.isNull {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try advance { try $0.decode(type) } }
    mutating func decode(_ type: String.Type) throws -> String { try advance { try $0.decode(type) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try advance { try $0.decode(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try advance { try $0.decode(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try advance { try $0.decodeInteger(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try advance { try $0.decodeInteger(type) } }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try advance { try $0.decode(type) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try advance { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try advance { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try advance { $0 }
    }

    /// Runs `body` on a decoder for the current element and moves past it if `body` succeeds.
    private mutating func advance<T>(_ body: (JSONValueDecoderImpl) throws -> T) throws -> T {
        let result = try body(next(T.self))
        currentIndex += 1
        return result
    }

    /// A decoder for the current element, or `valueNotFound` when the array is exhausted.
    private func next<T>(_ type: T.Type) throws -> JSONValueDecoderImpl {
        let path = codingPath + [JSONValueCodingKey(intValue: currentIndex)]
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: path,
                    debugDescription:
                        "Expected a value at \(describeCodingPath(path)) but the array at \(describeCodingPath(codingPath)) has only \(elements.count) element(s)."
                )
            )
        }
        return decoder.child(elements[currentIndex], at: path)
    }
}
