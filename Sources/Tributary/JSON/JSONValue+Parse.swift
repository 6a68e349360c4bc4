import CJansson

// This is the only Swift file that touches jansson. jansson's `json_t` pointers are neither Sendable nor owned by
// Swift, so they never leave `parseBuffer(_:source:)`: the tree is converted to `JSONValue` and the root is released
// before returning.

extension JSONValue {
    /// The flags every parse uses: accept any top-level value (not only arrays and objects), reject objects with a
    /// repeated key, and accept `\u0000` escapes inside strings.
    private static let loadFlags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

    /// Parses JSON text into a value.
    ///
    /// Any JSON value is accepted at top level, including scalars such as `42` or `"text"`. Leading and trailing
    /// whitespace is allowed; anything else after the value is an error. Parsing is strict RFC 8259 with these
    /// specifics:
    /// - an object with the same key twice is rejected (`duplicate object key near '"k"'`);
    /// - numbers without fraction or exponent become ``int(_:)`` when they fit in `Int64`; larger ones (such as
    ///   Python's `2**70`) become the nearest ``double(_:)``, as JavaScript and BullMQ's Node clients read them;
    ///   all other numbers become ``double(_:)`` (a magnitude beyond `Double` is `real number overflow`);
    /// - strings may contain `\u0000` (kept as U+0000), but object keys may not
    ///   (`NUL byte in object key not supported`);
    /// - object members keep the order in which they appear in the text;
    /// - nesting deeper than 2048 arrays/objects is rejected (`maximum parsing depth reached`).
    ///
    /// - Parameters:
    ///   - text: The JSON text.
    ///   - source: A name for the input, such as a file path, recorded in ``JSONParseError/source``.
    /// - Throws: ``JSONParseError`` with jansson's message and position.
    public static func parse(_ text: String, source: String? = nil) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { utf8 in
            parseBuffer(UnsafeRawBufferPointer(utf8), source: source)
        }
        return try result.get()
    }

    /// Parses UTF-8 encoded JSON bytes into a value, with the same rules as ``parse(_:source:)-(String,_)``.
    ///
    /// Bytes that are not valid UTF-8 are rejected (`unable to decode byte 0xff ...`).
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded JSON text. Contiguous collections (`[UInt8]`, `ArraySlice`, …) are read in place.
    ///   - source: A name for the input, such as a file path, recorded in ``JSONParseError/source``.
    /// - Throws: ``JSONParseError`` with jansson's message and position.
    public static func parse(bytes: some Collection<UInt8>, source: String? = nil) throws(JSONParseError) -> JSONValue {
        let contiguous = bytes.withContiguousStorageIfAvailable { storage in
            parseBuffer(UnsafeRawBufferPointer(storage), source: source)
        }
        let result = contiguous ?? Array(bytes).withUnsafeBytes { raw in parseBuffer(raw, source: source) }
        return try result.get()
    }

    /// Parses UTF-8 encoded JSON bytes in raw memory into a value, with the same rules as ``parse(_:source:)-(String,_)``.
    ///
    /// The memory is only read during the call.
    ///
    /// - Parameters:
    ///   - buffer: The UTF-8 encoded JSON text.
    ///   - source: A name for the input, such as a file path, recorded in ``JSONParseError/source``.
    /// - Throws: ``JSONParseError`` with jansson's message and position.
    public static func parse(_ buffer: UnsafeRawBufferPointer, source: String? = nil) throws(JSONParseError) -> JSONValue {
        try parseBuffer(buffer, source: source).get()
    }

    /// Runs jansson over `buffer` and converts the resulting tree; when jansson refuses an integer beyond 64 bits,
    /// parses again with those integers (and only those) read as doubles.
    private static func parseBuffer(_ buffer: UnsafeRawBufferPointer, source: String?) -> Result<JSONValue, JSONParseError> {
        let result = parseWithJansson(buffer, source: source)
        // jansson says "too big integer" or "too big negative integer" (strtoll's range error). Its only other
        // switch, JSON_DECODE_INT_AS_REAL, would turn every integer into a double.
        guard case .failure(let error) = result, error.message.hasPrefix("too big") else { return result }
        return WideIntegers.parse(buffer) { parseWithJansson($0, source: source) }
    }

    /// Runs jansson over `buffer` and converts the resulting tree, always releasing it.
    fileprivate static func parseWithJansson(_ buffer: UnsafeRawBufferPointer, source: String?) -> Result<JSONValue, JSONParseError> {
        var error = json_error_t()
        let root: UnsafeMutablePointer<json_t>?
        if buffer.isEmpty {
            // jansson rejects a NULL buffer outright ("wrong arguments"); give it a valid empty one so that empty
            // input gets the same diagnostic as whitespace-only input.
            root = withUnsafePointer(to: CChar(0)) { empty in
                json_loadb(empty, 0, loadFlags, &error)
            }
        } else {
            root = buffer.withMemoryRebound(to: CChar.self) { chars in
                json_loadb(chars.baseAddress, chars.count, loadFlags, &error)
            }
        }
        guard let root else {
            return .failure(JSONParseError(janssonError: error, source: source))
        }
        defer { json_decref(root) }
        return .success(convert(root))
    }

    /// Converts a jansson node (borrowed, not retained) into a `JSONValue`.
    ///
    /// Recursion depth is bounded by jansson's own parsing depth limit (2048).
    private static func convert(_ node: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch CJansson_typeof(node) {
        case JSON_OBJECT:
            // jansson (since 2.8, so including 2.14) keeps object members in a list ordered by insertion, and
            // json_object_iter/json_object_iter_next walk that list, so this yields the members in text order.
            var members = JSONObject(minimumCapacity: json_object_size(node))
            var iterator = json_object_iter(node)
            while let current = iterator {
                let key = string(json_object_iter_key(current), length: json_object_iter_key_len(current))
                if let child = json_object_iter_value(current) {
                    members[key] = convert(child)
                }
                iterator = json_object_iter_next(node, current)
            }
            return .object(members)
        case JSON_ARRAY:
            let count = json_array_size(node)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                if let child = json_array_get(node, index) {
                    elements.append(convert(child))
                }
            }
            return .array(elements)
        case JSON_STRING:
            // Use the stored length: with JSON_ALLOW_NUL the value may contain NUL bytes.
            return .string(string(json_string_value(node), length: json_string_length(node)))
        case JSON_INTEGER:
            return .int(Int64(json_integer_value(node)))
        case JSON_REAL:
            return .double(json_real_value(node))
        case JSON_TRUE:
            return .bool(true)
        case JSON_FALSE:
            return .bool(false)
        default:
            return .null
        }
    }

    /// Decodes `length` bytes of UTF-8 (already validated by jansson) at `pointer`.
    private static func string(_ pointer: UnsafePointer<CChar>?, length: Int) -> String {
        guard let pointer, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}

extension JSONParseError {
    /// Builds the Swift error from jansson's report.
    fileprivate init(janssonError error: json_error_t, source: String?) {
        // `text` is a fixed-size char array imported as a tuple. Its last byte is not text: jansson stores the
        // json_error_code there, so only the bytes before it (up to the first NUL) form the message.
        let message = withUnsafeBytes(of: error.text) { raw -> String in
            let text = raw.prefix(raw.count - 1)
            let end = text.firstIndex(of: 0) ?? text.endIndex
            return String(decoding: text[..<end], as: UTF8.self)
        }
        self.init(
            line: Int(error.line),
            column: Int(error.column),
            position: Int(error.position),
            message: message,
            source: source
        )
    }
}
