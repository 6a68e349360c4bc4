import Testing
import Tributary

/// Parses `text`, recording a test issue (and returning `nil`) if it fails.
private func parsed(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue? {
    do {
        return try JSONValue.parse(text)
    } catch {
        Issue.record("parse failed: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The error thrown by parsing `bytes`, or `nil` (with a recorded issue) if parsing succeeds.
private func parseError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    do {
        let value = try JSONValue.parse(bytes: bytes)
        Issue.record("expected a parse error, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The error thrown by parsing `text`, or `nil` (with a recorded issue) if parsing succeeds.
private func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    parseError(Array(text.utf8), sourceLocation: sourceLocation)
}

/// A malformed input and the error jansson reports for it.
struct JSONMalformedCase: Sendable, CustomTestStringConvertible {
    let input: [UInt8]
    let line: Int
    let column: Int
    let position: Int
    let message: String

    init(_ input: [UInt8], _ line: Int, _ column: Int, _ position: Int, _ message: String) {
        self.input = input
        self.line = line
        self.column = column
        self.position = position
        self.message = message
    }

    var testDescription: String {
        String(decoding: input, as: UTF8.self).debugDescription
    }
}

@Suite("JSON parsing")
struct JSONParseTests {
    /// Texts that serialize back to exactly themselves.
    static let roundTripCorpus: [String] = [
        "0.1",
        "1e-7",
        "0.30000000000000004",
        "123456789012345678",
        "-9223372036854775808",
        "9223372036854775807",
        "1.5e+300",
        "5e-324",
        "1.7976931348623157e+308",
        "-2.5",
        "null", "true", "false", "0", "-1", "\"text\"", "[]", "{}",
        "[[],{},[[1,[2,[3]]]],{\"a\":{\"b\":{\"c\":[]}}}]",
        "{\"b\":1,\"a\":2,\"c\":3}",
        "{\"z\":{\"y\":1,\"x\":2},\"a\":[{\"k2\":null,\"k1\":false}]}",
        #""a\u0000b""#,
        "\"😀 日本語 𝄞 é\"",
        #""\b\f\n\r\t\u0001\u001f\"\\/""#,
        "{\"\":\"\",\"emoji😀\":[\"𝄞\"]}",
    ]

    @Test(arguments: roundTripCorpus)
    func parseThenSerializeReproducesTheInput(text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == text)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test func everyScalarIsAcceptedAtTopLevel() throws {
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse("42") == .int(42))
        #expect(try JSONValue.parse("-7") == .int(-7))
        #expect(try JSONValue.parse("2.5") == .double(2.5))
        #expect(try JSONValue.parse("1E2") == .double(100))
        #expect(try JSONValue.parse("\"s\"") == .string("s"))
        #expect(try JSONValue.parse("  \n\t 12 \r\n ") == .int(12))
    }

    @Test func numbersKeepTheirIntOrRealKind() throws {
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("1.0") == .double(1))
        #expect(try JSONValue.parse("-0") == .int(0))
        // -0.0 parses as a negative-zero double; it serializes as "0" like JSON.stringify(-0) does.
        let negativeZero = try JSONValue.parse("-0.0")
        #expect(negativeZero.doubleValue?.sign == .minus)
        #expect(negativeZero.serialized() == "0")
        // An integral real is written without a fraction, as JavaScript does, so it reads back as an int.
        #expect(try JSONValue.parse("1.0").serialized() == "1")
        #expect(try JSONValue.parse("2.50").serialized() == "2.5")
        #expect(try JSONValue.parse("1E+2").serialized() == "100")
    }

    @Test func objectKeyOrderIsTheTextOrder() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": 2, "c": 3}"#)
        #expect(value.objectValue.map { Array($0.keys) } == ["b", "a", "c"])
        let many = (0..<200).reversed().map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let big = try JSONValue.parse("{\(many)}")
        #expect(big.objectValue.map { Array($0.keys) } == (0..<200).reversed().map { "k\($0)" })
    }

    @Test func stringsKeepNulAndUnicode() throws {
        #expect(try JSONValue.parse(#""a\u0000b""#) == .string("a\u{0}b"))
        #expect(try JSONValue.parse(#""a\u0000b""#).stringValue?.utf8.count == 3)
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00""#).serialized() == "\"é😀\"")
        #expect(try JSONValue.parse("\"𝄞\"") == .string("\u{1D11E}"))
        #expect(try JSONValue.parse(#""\/""#) == .string("/"))
    }

    @Test func inputFormsAgree() throws {
        let text = #"{"a":[1,2.5,"x"]}"#
        let expected: JSONValue = ["a": [1, 2.5, "x"]]
        #expect(try JSONValue.parse(text) == expected)
        #expect(try JSONValue.parse(bytes: Array(text.utf8)) == expected)
        #expect(try JSONValue.parse(bytes: Array(("  " + text).utf8)[2...]) == expected)
        #expect(try JSONValue.parse(bytes: text.utf8.lazy.map { $0 }) == expected)
        let fromRaw = try Array(text.utf8).withUnsafeBytes { raw throws(JSONParseError) in try JSONValue.parse(raw) }
        #expect(fromRaw == expected)
    }

    @Test func deepNestingUpToJanssonsLimit() throws {
        let depth = 2048
        let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let value = try JSONValue.parse(deep)
        #expect(value.serialized() == deep)

        let tooDeep = String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1)
        let error = parseError(tooDeep)
        #expect(error?.message == "maximum parsing depth reached near '['")
        #expect(error?.column == 2049)
    }

    @Test func duplicateKeysAreRejected() {
        let error = parseError(#"{"a":1,"a":2}"#)
        #expect(error == JSONParseError(line: 1, column: 10, position: 10, message: #"duplicate object key near '"a"'"#))

        let nested = parseError("{\"x\": {\"a\":1,\n  \"a\":2}}")
        #expect(nested == JSONParseError(line: 2, column: 5, position: 19, message: #"duplicate object key near '"a"'"#))

        // Same key in different objects is fine.
        #expect(parsed(#"[{"a":1},{"a":2}]"#) == [["a": 1], ["a": 2]])
    }

    @Test("integers beyond 64 bits read as the nearest double (as JavaScript reads them); the others stay exact")
    func wideIntegers() throws {
        #expect(parsed("9223372036854775807") == .int(.max))
        #expect(parsed("-9223372036854775808") == .int(.min))
        #expect(parsed("9223372036854775808") == .double(0x1p63))
        #expect(parsed("-9223372036854775809") == .double(-0x1p63))
        let text = #"{"n": 1180591620717411303424, "s": "1180591620717411303424", "a": [1, -1180591620717411303424e0, 2.5, -1180591620717411303424]}"#
        let value = parsed(text)
        #expect(value == ["n": .double(0x1p70), "s": "1180591620717411303424", "a": [1, .double(-0x1p70), 2.5, .double(-0x1p70)]])
        #expect(value?.serialized() == #"{"n":1.1805916207174113e+21,"s":"1180591620717411303424","a":[1,-1.1805916207174113e+21,2.5,-1.1805916207174113e+21]}"#)
        #expect(parsed("[36893488147419103232]")?.serialized() == "[3.6893488147419103e+19]")
        #expect(parsed(#"["\"", 100000000000000000000]"#) == ["\"", .double(1e20)])
        // A syntax error after a wide integer keeps its position in the original text: the same as with a real
        // literal of the same length in its place.
        let wide = "{\"a\": 100000000000000000000,\n \"b\": [123456789012345678901234, 2,, 3]}"
        let real = "{\"a\": 1.0000000000000000000,\n \"b\": [1.2345678901234567890123, 2,, 3]}"
        let error = try #require(parseError(wide))
        #expect(error == parseError(real))
        #expect(error.line == 2 && error.message == "unexpected token near ','")
        #expect(parseError("1e400")?.message == "real number overflow near '1e400'")
    }

    /// Malformed inputs and the exact position jansson 2.14 reports for each (line, column, byte position).
    static let malformed: [JSONMalformedCase] = [
        JSONMalformedCase(Array("{\"a\": 1,\n \"b\": [1, 2,, 3]}".utf8), 2, 13, 22, "unexpected token near ','"),
        JSONMalformedCase(Array("[1, 2".utf8), 1, 5, 5, "']' expected near end of file"),
        JSONMalformedCase(Array("\"abc".utf8), 1, 4, 4, "premature end of input near '\"abc'"),
        JSONMalformedCase(Array("[1, 2,]".utf8), 1, 7, 7, "unexpected token near ']'"),
        JSONMalformedCase(Array("{\"a\":1,}".utf8), 1, 8, 8, "string or '}' expected near '}'"),
        JSONMalformedCase(Array("{\"a\" 1}".utf8), 1, 6, 6, "':' expected near '1'"),
        JSONMalformedCase(Array("{\"a\",1}".utf8), 1, 5, 5, "':' expected near ','"),
        JSONMalformedCase(Array("tru".utf8), 1, 3, 3, "invalid token near 'tru'"),
        JSONMalformedCase(Array("[nul]".utf8), 1, 4, 4, "invalid token near 'nul'"),
        JSONMalformedCase(Array("NaN".utf8), 1, 3, 3, "invalid token near 'NaN'"),
        JSONMalformedCase(Array("01".utf8), 1, 1, 1, "invalid token near '0'"),
        JSONMalformedCase([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")], 1, 1, 1, "unable to decode byte 0xff near '\"'"),
        JSONMalformedCase(Array("[\"éé\", ".utf8) + [0xFF, UInt8(ascii: "]")], 1, 7, 9, "unable to decode byte 0xff"),
        JSONMalformedCase(Array("[1] x".utf8), 1, 5, 5, "end of file expected near 'x'"),
        JSONMalformedCase(Array("1 2".utf8), 1, 3, 3, "end of file expected near '2'"),
        JSONMalformedCase(Array("\"😀\"  @".utf8), 1, 6, 9, "end of file expected near '@'"),
        JSONMalformedCase(Array("".utf8), 1, 0, 0, "unexpected token near end of file"),
        JSONMalformedCase(Array("   ".utf8), 1, 3, 3, "unexpected token near end of file"),
        JSONMalformedCase(Array("\"a\tb\"".utf8), 1, 2, 2, "control character 0x9 near '\"a'"),
        JSONMalformedCase(Array("1e400".utf8), 1, 5, 5, "real number overflow near '1e400'"),
        JSONMalformedCase(Array(#"{"a\u0000b":1}"#.utf8), 1, 11, 11, #"NUL byte in object key not supported near '"a\u0000b"'"#),
        JSONMalformedCase(Array(#""\ud800""#.utf8), 1, 8, 8, #"invalid Unicode '\uD800' near '"\ud800"'"#),
        JSONMalformedCase(Array("[1]".utf8) + [0], 1, 4, 4, "end of file expected near end of file"),
    ]

    @Test(arguments: malformed)
    func malformedInputReportsExactPosition(_ testCase: JSONMalformedCase) {
        let error = parseError(testCase.input)
        #expect(error?.message == testCase.message)
        #expect(error?.line == testCase.line)
        #expect(error?.column == testCase.column)
        #expect(error?.position == testCase.position)
        #expect(error?.source == nil)
    }

    @Test func errorFormatting() throws {
        let text = "{\"a\": 1,\n \"b\": [1, 2,, 3]}"
        let error = try #require(parseError(text))
        #expect(error.description == "line 2, column 13: unexpected token near ','")
        #expect(error.formatted(file: "flows/etl.json") == "flows/etl.json:2:13: unexpected token near ','")
        #expect(error.formatted() == error.description)

        #expect(throws: JSONParseError(line: 2, column: 13, position: 22, message: "unexpected token near ','", source: "etl.json")) {
            try JSONValue.parse(text, source: "etl.json")
        }
        do {
            _ = try JSONValue.parse(bytes: Array(text.utf8), source: "flows/etl.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.source == "flows/etl.json")
            #expect(error.formatted() == "flows/etl.json:2:13: unexpected token near ','")
        }
    }
}
