/// Integers beyond 64 bits in JSON text, such as Python's `2**70` (`1180591620717411303424`).
///
/// jansson 2.14 refuses them (`too big integer`), and its only alternative, `JSON_DECODE_INT_AS_REAL`, reads every
/// integer as a double. JavaScript, and so BullMQ's Node clients, read them as the nearest double; Tributary does the
/// same by marking exactly those literals as reals (appending `.0`) and parsing again. Only text that jansson
/// refused takes this path, so the cost falls on payloads that have such integers.
enum WideIntegers {
    /// What is appended to each wide integer literal.
    private static let suffix: [UInt8] = Array(".0".utf8)

    /// Where a suffix was inserted: its byte offset in the original text and the line (1-based) it is on.
    private struct Insertion {
        let offset: Int
        let line: Int
    }

    /// Parses `text` with the wide integers marked as reals, using `parse` (jansson); a later error's position is
    /// mapped back to the original text.
    static func parse(_ text: UnsafeRawBufferPointer,
                      with parse: (UnsafeRawBufferPointer) -> Result<JSONValue, JSONParseError>) -> Result<JSONValue, JSONParseError> {
        let insertions = wideIntegerEnds(in: text)
        var widened: [UInt8] = []
        widened.reserveCapacity(text.count + suffix.count * insertions.count)
        var start = 0
        for insertion in insertions {
            widened.append(contentsOf: text[start..<insertion.offset])
            widened.append(contentsOf: suffix)
            start = insertion.offset
        }
        widened.append(contentsOf: text[start...])
        let result = widened.withUnsafeBytes { parse($0) }
        guard case .failure(var error) = result else { return result }
        // Each suffix inserted before the error's position moved it (and its column, on the same line) right.
        var shift = 0, columnShift = 0
        for (index, insertion) in insertions.enumerated()
        where insertion.offset + suffix.count * (index + 1) <= error.position {
            shift += suffix.count
            if insertion.line == error.line { columnShift += suffix.count }
        }
        error.position -= shift
        error.column -= columnShift
        return .failure(error)
    }

    /// The end offsets of the integer literals (no fraction, no exponent) outside strings whose value is outside
    /// `Int64`. The scan is light: it only needs to skip strings; jansson judges the syntax.
    private static func wideIntegerEnds(in text: UnsafeRawBufferPointer) -> [Insertion] {
        var insertions: [Insertion] = []
        var offset = 0
        var line = 1
        while offset < text.count {
            let byte = text[offset]
            if byte == UInt8(ascii: "\"") {
                offset += 1
                while offset < text.count, text[offset] != UInt8(ascii: "\"") {
                    offset += text[offset] == UInt8(ascii: "\\") ? 2 : 1
                }
                offset += 1
            } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let start = offset
                var isInteger = true
                while offset < text.count, isNumberByte(text[offset]) {
                    if text[offset] == UInt8(ascii: ".") || text[offset] | 0x20 == UInt8(ascii: "e") { isInteger = false }
                    offset += 1
                }
                if isInteger, exceedsInt64(text[start..<offset]) {
                    insertions.append(Insertion(offset: offset, line: line))
                }
            } else {
                if byte == UInt8(ascii: "\n") { line += 1 }
                offset += 1
            }
        }
        return insertions
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
             UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default:
            return false
        }
    }

    /// Whether the integer literal `literal` (an optional '-' and digits) lies outside `Int64`.
    private static func exceedsInt64(_ literal: Slice<UnsafeRawBufferPointer>) -> Bool {
        let negative = literal.first == UInt8(ascii: "-")
        let digits = negative ? literal.dropFirst() : literal[...]
        guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return false }
        let limit = Array((negative ? "9223372036854775808" : "9223372036854775807").utf8)
        if digits.count != limit.count { return digits.count > limit.count }
        return digits.lexicographicallyPrecedes(limit) == false && !digits.elementsEqual(limit)
    }
}
