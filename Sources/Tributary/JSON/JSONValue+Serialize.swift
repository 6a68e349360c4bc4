// JSON text generation, written in Swift rather than with jansson's json_dumps: jansson prints reals with 17
// significant digits (0.1 becomes 0.10000000000000001), while BullMQ peers (JavaScript, Python) read and write the
// shortest round-trip form. The output here is byte-for-byte what JavaScript's JSON.stringify produces for the same
// data, which keeps payloads stable when they travel between Tributary and BullMQ workers.

extension JSONValue {
    /// The compact JSON text of this value, with no insignificant whitespace: `{"a":1,"b":[true,null]}`.
    ///
    /// The output matches JavaScript's `JSON.stringify(value)`:
    /// - object members are written in their stored order;
    /// - ``int(_:)`` values are written exactly, over the whole `Int64` range;
    /// - ``double(_:)`` values use ECMAScript's Number-to-String rules: the shortest digits that read back as the
    ///   same double, without exponent from 1e-6 up to (excluding) 1e21 (`0.000001`, `123.456`,
    ///   `100000000000000000000`), otherwise with one (`1e+21`, `1.5e-7`). Integral doubles have no fraction, so
    ///   `.double(1)` is written `1` and reads back as `.int(1)`, exactly as in JavaScript. Negative zero is written
    ///   `0` (as `JSON.stringify(-0)` does). NaN and ±infinity have no JSON form and are written `null`.
    ///   Two deliberate differences. Integral doubles from 2^53 up to 2^63 are written with their exact digits
    ///   (`2184467440737095424`, where JavaScript writes `2184467440737095400`): read as an integer, as this parser
    ///   and Python read such text, JavaScript's digits would be another number; every reader gets the same number
    ///   from the exact digits. And doubles from 2^63 up to 1e21, which JavaScript writes as long digit strings,
    ///   are written in the shorter exponent form (`1e+20`, `3.6893488147419103e+19` for 2^65), which every
    ///   reader takes as a double: JavaScript and Python read both forms as the same number, and older Tributary
    ///   versions (whose parser refused integers beyond 64 bits) can read it. So an integer beyond 64 bits
    ///   written by Python (`2**70`), which ``parse(_:source:)-(String,_)`` reads as the nearest double, is written back as
    ///   that double in its shortest form (`1.1805916207174113e+21`);
    /// - strings escape `"`, `\` and the control characters U+0000–U+001F (`\b`, `\t`, `\n`, `\f`, `\r`, otherwise
    ///   `\u00XX` in lowercase hex, e.g. `\u0000`); every other character, including non-ASCII, is emitted as raw
    ///   UTF-8.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// The compact JSON text of this value as UTF-8 bytes; see ``serialized()``.
    public func serializedBytes() -> [UInt8] {
        var writer = JSONTextWriter(indent: nil)
        writer.write(self, depth: 0)
        return writer.output
    }

    /// Human-readable JSON text: one array element or object member per line, nested levels indented by `indent`
    /// spaces, and `": "` between keys and values. Empty arrays and objects stay `[]` and `{}`.
    ///
    /// Apart from whitespace the text is identical to ``serialized()`` (with `indent: 2` it equals JavaScript's
    /// `JSON.stringify(value, null, 2)`). There is no trailing newline. A negative `indent` counts as 0.
    public func prettyPrinted(indent: Int = 2) -> String {
        var writer = JSONTextWriter(indent: max(0, indent))
        writer.write(self, depth: 0)
        return String(decoding: writer.output, as: UTF8.self)
    }
}

/// Appends JSON text for values to a byte buffer.
struct JSONTextWriter {
    /// The bytes written so far.
    private(set) var output: [UInt8] = []
    /// Spaces per nesting level for pretty printing, or `nil` for compact output.
    private let indent: Int?

    /// Creates a writer; `indent` is `nil` for compact output, otherwise the number of spaces per level.
    init(indent: Int?) {
        self.indent = indent
    }

    /// Appends `value`, which sits at nesting level `depth` (used only for pretty printing).
    mutating func write(_ value: JSONValue, depth: Int) {
        switch value {
        case .null:
            append("null")
        case .bool(let flag):
            append(flag ? "true" : "false")
        case .int(let number):
            append(String(number))
        case .double(let number):
            JSONTextWriter.appendNumber(number, to: &output)
        case .string(let text):
            writeString(text)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            if !elements.isEmpty {
                for (offset, element) in elements.enumerated() {
                    if offset > 0 { output.append(UInt8(ascii: ",")) }
                    newline(depth: depth + 1)
                    write(element, depth: depth + 1)
                }
                newline(depth: depth)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            if !members.isEmpty {
                var first = true
                for (key, member) in members {
                    if !first { output.append(UInt8(ascii: ",")) }
                    first = false
                    newline(depth: depth + 1)
                    writeString(key)
                    output.append(UInt8(ascii: ":"))
                    if indent != nil { output.append(UInt8(ascii: " ")) }
                    write(member, depth: depth + 1)
                }
                newline(depth: depth)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// In pretty mode, starts a new line indented for `depth`; does nothing in compact mode.
    private mutating func newline(depth: Int) {
        guard let indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * depth))
    }

    /// Appends ASCII text verbatim.
    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    /// Appends `text` as a quoted, escaped JSON string.
    private mutating func writeString(_ text: String) {
        output.append(UInt8(ascii: "\""))
        let handled: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            appendEscaped(bytes)
        }
        if handled == nil {
            appendEscaped(Array(text.utf8))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends UTF-8 `bytes`, escaping what JSON requires, copying unescaped runs in one go.
    private mutating func appendEscaped(_ bytes: some RandomAccessCollection<UInt8>) {
        var runStart = bytes.startIndex
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index = bytes.index(after: index)
                continue
            }
            output.append(contentsOf: bytes[runStart..<index])
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            default:
                output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                output.append(JSONTextWriter.hexDigits[Int(byte >> 4)])
                output.append(JSONTextWriter.hexDigits[Int(byte & 0x0F)])
            }
            index = bytes.index(after: index)
            runStart = index
        }
        output.append(contentsOf: bytes[runStart..<index])
    }

    /// Lowercase hexadecimal digits, as JavaScript uses in `\u00XX` escapes.
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `number` formatted like ECMAScript's Number::toString (radix 10), or `null` if it is not finite.
    static func appendNumber(_ number: Double, to output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        if number == 0 {
            // Both +0 and -0 print as "0" in JavaScript.
            output.append(UInt8(ascii: "0"))
            return
        }
        if number.magnitude < 0x1p63, number.rounded(.towardZero) == number {
            // An integral double that fits in Int64 is written with its exact digits. Below 2^53 these are
            // JavaScript's digits too; above, JavaScript pads its shortest digits with zeros (2184467440737095400
            // for 2184467440737095424), an integer literal that every reader keeping integers exact (this parser,
            // Python) would take for another number.
            output.append(contentsOf: String(Int64(number)).utf8)
            return
        }
        if number < 0 {
            output.append(UInt8(ascii: "-"))
        }
        let (digits, pointPosition) = shortestDigits(of: number.magnitude)
        // ECMAScript terms: the value is 0.d1d2…dk × 10^n, i.e. digits s (k of them) times 10^(n - k).
        let k = digits.count
        let n = pointPosition
        let zero = UInt8(ascii: "0")
        // Integral values are at least 2^63 here (smaller ones were written above): they take the exponent form,
        // shorter, and read as a double everywhere.
        if k > n && 0 < n && n <= 21 {
            // Decimal point inside the digits.
            output.append(contentsOf: digits[..<n])
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            // Small magnitude without exponent: "0." then -n zeros then the digits.
            output.append(contentsOf: [zero, UInt8(ascii: ".")])
            output.append(contentsOf: repeatElement(zero, count: -n))
            output.append(contentsOf: digits)
        } else {
            // Exponent form: d[.ddd]e±x with x = n - 1.
            output.append(digits[0])
            if k > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: digits[1...])
            }
            output.append(UInt8(ascii: "e"))
            output.append(n - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            output.append(contentsOf: String((n - 1).magnitude).utf8)
        }
    }

    /// The shortest decimal digits that uniquely identify the positive finite `magnitude`, without leading or
    /// trailing zeros, and the position of the decimal point relative to them (the value is 0.digits × 10^point).
    ///
    /// Swift's `Double.description` already computes the shortest round-trip digits (choosing the closest candidate
    /// when several are equally short, as ECMAScript requires); only its layout differs from JavaScript's
    /// (`1e-07`, `100.0`), so it is taken apart here and reassembled by the caller.
    private static func shortestDigits(of magnitude: Double) -> (digits: [UInt8], point: Int) {
        var digits: [UInt8] = []
        var integerDigitCount: Int?
        var exponent = 0
        let text = Array(magnitude.description.utf8)
        var index = 0
        while index < text.count {
            let character = text[index]
            if character == UInt8(ascii: ".") {
                integerDigitCount = digits.count
            } else if character == UInt8(ascii: "e") || character == UInt8(ascii: "E") {
                var exponentText = text[(index + 1)...]
                var negative = false
                if let sign = exponentText.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                    negative = sign == UInt8(ascii: "-")
                    exponentText = exponentText.dropFirst()
                }
                for digit in exponentText {
                    exponent = exponent * 10 + Int(digit - UInt8(ascii: "0"))
                }
                if negative { exponent = -exponent }
                break
            } else {
                digits.append(character)
            }
            index += 1
        }
        var point = (integerDigitCount ?? digits.count) + exponent
        let zero = UInt8(ascii: "0")
        var start = 0
        while start < digits.count - 1 && digits[start] == zero {
            start += 1
            point -= 1
        }
        var end = digits.count
        while end > start + 1 && digits[end - 1] == zero {
            end -= 1
        }
        return (Array(digits[start..<end]), point)
    }
}
