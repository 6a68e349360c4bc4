import Tributary

extension FuzzTarget {
    /// JSON text → value → text → value.
    ///
    /// Bytes jansson accepts must serialize to text that parses again to the same value (integral doubles may come
    /// back as ints, `-0` as `0`: the numbers must be equal, nothing else may differ); serializing that again gives
    /// the same bytes; the pretty-printed text reads back the same; and the String entry point agrees with the bytes
    /// one on valid UTF-8.
    static let json = FuzzTarget(
        name: "json",
        summary: "JSON bytes -> parse -> serialize -> parse: equal values, stable text, pretty text, String vs bytes"
    ) { input in
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(input)
        } catch {
            if let text = String(validating: input, as: UTF8.self), let value = try? JSONValue.parse(text) {
                violated("bytes rejected (\(error)) but the same text as a String parses to \(value)")
            }
            return
        }
        if let text = String(validating: input, as: UTF8.self) {
            guard let fromString = try? JSONValue.parse(text), fromString == parsed else {
                violated("the String entry point disagrees with the bytes one on \(printable(input))")
            }
        }
        let compact = parsed.serializedBytes()
        let reparsed: JSONValue
        do {
            reparsed = try JSONValue.parse(bytes: compact)
        } catch {
            violated("serialized text does not parse (\(error)): \(printable(compact)) from \(printable(input))")
        }
        guard sameJSON(parsed, reparsed) else {
            violated("parse(serialize(v)) differs from v: \(printable(compact)) from \(printable(input))")
        }
        guard reparsed.serializedBytes() == compact else {
            violated("serializing the re-parsed value gives other text than \(printable(compact))")
        }
        let pretty = parsed.prettyPrinted(indent: 2)
        guard let fromPretty = try? JSONValue.parse(pretty), fromPretty == reparsed else {
            violated("pretty-printed text reads back differently: \(printable(pretty.utf8))")
        }
    }
}

/// Whether two values are the same JSON: strings compared byte for byte (not by Unicode equivalence), object keys
/// in the same order, numbers by value across `int`/`double` (the text `1.0` serializes as `1`, read back as an int).
func sameJSON(_ left: JSONValue, _ right: JSONValue) -> Bool {
    switch (left, right) {
    case (.null, .null): return true
    case (.bool(let a), .bool(let b)): return a == b
    case (.int(let a), .int(let b)): return a == b
    case (.double(let a), .double(let b)): return a == b
    case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int64(exactly: b) == a
    case (.string(let a), .string(let b)): return Array(a.utf8) == Array(b.utf8)
    case (.array(let a), .array(let b)):
        return a.count == b.count && zip(a, b).allSatisfy { sameJSON($0, $1) }
    case (.object(let a), .object(let b)):
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { pair in
            Array(pair.0.key.utf8) == Array(pair.1.key.utf8) && sameJSON(pair.0.value, pair.1.value)
        }
    default: return false
    }
}
