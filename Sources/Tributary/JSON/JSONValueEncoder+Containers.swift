// Keyed and unkeyed containers of `JSONValueEncoderImpl`. They write into shared `EncodedObject` / `EncodedArray`
// instances, so containers obtained at different times for the same value all contribute to the same result.

/// Adds members to a JSON object under construction.
struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    /// The encoder that owns the object (for user info and child encoders).
    let encoder: JSONValueEncoderImpl
    /// The object members are added to.
    let object: EncodedObject
    /// The path of the object.
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { set(.value(.null), for: key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.value(.bool(value)), for: key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.value(.string(value)), for: key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.value(.double(value)), for: key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.value(encoder.float(value)), for: key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try setInteger(value, for: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try setInteger(value, for: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try encoder.node(for: value, at: codingPath + [key]), for: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: EncodedObject
        if case .object(let existing)? = object.members[key.stringValue] {
            nested = existing
        } else {
            nested = EncodedObject()
            set(.object(nested), for: key)
        }
        let container = JSONKeyedEncodingContainer<NestedKey>(
            encoder: encoder,
            object: nested,
            codingPath: codingPath + [key]
        )
        return KeyedEncodingContainer(container)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: EncodedArray
        if case .array(let existing)? = object.members[key.stringValue] {
            nested = existing
        } else {
            nested = EncodedArray()
            set(.array(nested), for: key)
        }
        return JSONUnkeyedEncodingContainer(encoder: encoder, array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(named: JSONValueCodingKey.superKey)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key)
    }

    /// Returns an encoder whose result becomes the member named `key.stringValue`.
    private func superEncoder(named key: any CodingKey) -> any Encoder {
        let child = encoder.deferredEncoder(at: codingPath + [key])
        object.members[key.stringValue] = .deferred(child)
        return child
    }

    /// Sets (or replaces) the member for `key`.
    private func set(_ node: EncodedNode, for key: Key) {
        object.members[key.stringValue] = node
    }

    /// Sets an integer member after checking it fits in `Int64`.
    private func setInteger<T: BinaryInteger & Encodable>(_ value: T, for key: Key) throws {
        set(.value(try encoder.integer(value, at: codingPath + [key])), for: key)
    }
}

/// Appends elements to a JSON array under construction.
struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    /// The encoder that owns the array (for user info and child encoders).
    let encoder: JSONValueEncoderImpl
    /// The array elements are appended to.
    let array: EncodedArray
    /// The path of the array.
    let codingPath: [any CodingKey]

    /// The number of elements encoded so far.
    var count: Int { array.elements.count }

    mutating func encodeNil() throws { append(.value(.null)) }
    mutating func encode(_ value: Bool) throws { append(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { append(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { append(.value(.double(value))) }
    mutating func encode(_ value: Float) throws { append(.value(encoder.float(value))) }
    mutating func encode(_ value: Int) throws { try appendInteger(value) }
    mutating func encode(_ value: Int8) throws { try appendInteger(value) }
    mutating func encode(_ value: Int16) throws { try appendInteger(value) }
    mutating func encode(_ value: Int32) throws { try appendInteger(value) }
    mutating func encode(_ value: Int64) throws { try appendInteger(value) }
    mutating func encode(_ value: UInt) throws { try appendInteger(value) }
    mutating func encode(_ value: UInt8) throws { try appendInteger(value) }
    mutating func encode(_ value: UInt16) throws { try appendInteger(value) }
    mutating func encode(_ value: UInt32) throws { try appendInteger(value) }
    mutating func encode(_ value: UInt64) throws { try appendInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try encoder.node(for: value, at: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodedObject()
        let path = nextPath
        append(.object(nested))
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<NestedKey>(encoder: encoder, object: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = EncodedArray()
        let path = nextPath
        append(.array(nested))
        return JSONUnkeyedEncodingContainer(encoder: encoder, array: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let child = encoder.deferredEncoder(at: nextPath)
        append(.deferred(child))
        return child
    }

    /// The coding path of the element that will be appended next.
    private var nextPath: [any CodingKey] {
        codingPath + [JSONValueCodingKey(intValue: count)]
    }

    /// Appends an element.
    private func append(_ node: EncodedNode) {
        array.elements.append(node)
    }

    /// Appends an integer element after checking it fits in `Int64`.
    private func appendInteger<T: BinaryInteger & Encodable>(_ value: T) throws {
        append(.value(try encoder.integer(value, at: nextPath)))
    }
}
