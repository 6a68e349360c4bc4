import OrderedCollections

/// A JSON object key, compared by its Unicode scalars (equivalently, its UTF-8 bytes).
///
/// Swift's `String` equality is canonical equivalence: `"café"` written with U+00E9 (NFC) equals `"café"` written
/// with `e` + U+0301 (NFD). JSON keys are sequences of code points, and JavaScript, Python, jansson and Redis all
/// tell those two apart, so Tributary must too: ``JSONObject`` and every table keyed by a JSON key or a flow node
/// id use this type, never `String`, as their key.
public struct JSONKey: Hashable, Sendable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The key's text.
    public let string: String

    /// Wraps `string`.
    public init(_ string: String) {
        self.string = string
    }

    /// Creates a key from a string literal.
    public init(stringLiteral value: String) {
        self.string = value
    }

    public static func == (lhs: JSONKey, rhs: JSONKey) -> Bool {
        lhs.string.utf8.count == rhs.string.utf8.count && lhs.string.utf8.elementsEqual(rhs.string.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Orders keys by their UTF-8 bytes (which is code point order).
    public static func < (lhs: JSONKey, rhs: JSONKey) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }

    public var description: String { string }
}

/// A JSON object: string keys mapped to values, in the order the keys were inserted (or appeared in the parsed text).
///
/// Keys are distinct when their Unicode scalars differ, even when Swift would call the strings equal (`"café"` in
/// NFC and in NFD are two keys, as in JavaScript and Python); see ``JSONKey``. Equality and hashing take the order
/// of the members into account.
public struct JSONObject: Sendable, Hashable {
    /// The members, keyed by scalars.
    var storage: OrderedDictionary<JSONKey, JSONValue>

    /// An empty object.
    public init() {
        storage = [:]
    }

    /// An empty object with room for `minimumCapacity` members.
    public init(minimumCapacity: Int) {
        storage = OrderedDictionary(minimumCapacity: minimumCapacity)
    }

    /// An object with these members, in order. A repeated key is a programming error and traps.
    public init<S: Sequence>(uniqueKeysWithValues members: S) where S.Element == (String, JSONValue) {
        storage = OrderedDictionary(uniqueKeysWithValues: members.lazy.map { (JSONKey($0.0), $0.1) })
    }

    /// The value of the member named `key`; setting `nil` removes the member, setting a value for a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { storage[JSONKey(key)] }
        set { storage[JSONKey(key)] = newValue }
    }

    /// The value of the member named `key`, or `defaultValue`.
    public subscript(key: String, default defaultValue: @autoclosure () -> JSONValue) -> JSONValue {
        get { storage[JSONKey(key), default: defaultValue()] }
        set { storage[JSONKey(key), default: defaultValue()] = newValue }
    }

    /// The keys, in order.
    public var keys: [String] { storage.keys.map(\.string) }

    /// The values, in order.
    public var values: [JSONValue] { Array(storage.values) }

    /// Whether the object has a member named `key`.
    public func contains(key: String) -> Bool {
        storage.index(forKey: JSONKey(key)) != nil
    }

    /// Sets the member named `key`, returning its previous value (a new key is appended).
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        storage.updateValue(value, forKey: JSONKey(key))
    }

    /// Removes the member named `key`, returning its value.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        storage.removeValue(forKey: JSONKey(key))
    }

    /// Reserves room for `minimumCapacity` members.
    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        storage.reserveCapacity(minimumCapacity)
    }

    /// The members for which `isIncluded` is true, as an object, in order.
    public func filter(_ isIncluded: (Element) throws -> Bool) rethrows -> JSONObject {
        var result = JSONObject()
        result.storage = try storage.filter { try isIncluded(($0.key.string, $0.value)) }
        return result
    }

    /// The object with each value transformed, keys and order kept.
    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var result = JSONObject()
        result.storage = try storage.mapValues(transform)
        return result
    }
}

extension JSONObject: RandomAccessCollection {
    public typealias Element = (key: String, value: JSONValue)
    public typealias Index = Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count }
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public subscript(position: Int) -> Element {
        let member = storage.elements[position]
        return (member.key.string, member.value)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// An object from a dictionary literal, in the literal's order. A repeated key is a programming error and traps.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(uniqueKeysWithValues: elements)
    }
}
