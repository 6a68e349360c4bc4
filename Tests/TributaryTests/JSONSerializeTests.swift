import Testing
import Tributary

@Suite("JSON serialization")
struct JSONSerializeTests {
    /// Doubles and the text JavaScript's `String(x)` / `JSON.stringify(x)` produces for them, except that integral
    /// values from 2^53 to 2^63 are written with their exact digits (JavaScript writes `9223372036854775000` for
    /// 2^63 - 1024), and integral values from 2^63 to 1e21 take the exponent form (JavaScript writes
    /// `100000000000000000000`), which jansson can read back.
    static let javaScriptNumbers: [(Double, String)] = [
        (1.0, "1"),
        (1e21, "1e+21"),
        (1e20, "1e+20"),
        (0x1p63, "9.223372036854776e+18"),
        (0x1p63 - 1024, "9223372036854774784"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (0.0000012345, "0.0000012345"),
        (123.456, "123.456"),
        (-2.5, "-2.5"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (0.5, "0.5"),
        (100, "100"),
        (-1e-7, "-1e-7"),
        (1.2e21, "1.2e+21"),
        (1.2345678901234568e20, "1.2345678901234568e+20"),
        (9007199254740992, "9007199254740992"),
        (1.5e300, "1.5e+300"),
        (Double.leastNonzeroMagnitude, "5e-324"),
        (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
        (-0.0, "0"),
        (0.0, "0"),
        (Double.nan, "null"),
        (Double.infinity, "null"),
        (-Double.infinity, "null"),
    ]

    @Test(arguments: javaScriptNumbers)
    func doublesAreFormattedLikeJavaScript(number: Double, expected: String) {
        #expect(JSONValue.double(number).serialized() == expected)
    }

    @Test func finiteDoublesReadBackToTheSameValue() throws {
        let samples: [Double] = [0.1, 1e-7, 1.5e-7, 123.456, Double.leastNonzeroMagnitude, 2.2250738585072014e-308, 1e300, 0.3, 1 / 3.0, -7.25e-5]
        for sample in samples {
            let text = JSONValue.double(sample).serialized()
            #expect(try JSONValue.parse(text).doubleValue == sample, "\(text)")
        }
    }

    @Test func integralDoublesBeyondInt64ReadBackWithJansson() throws {
        for sample in [0x1p63, 1e20, 1.2345678901234568e20, -1e20, 9.99e20] {
            let text = JSONValue.double(sample).serialized()
            #expect(try JSONValue.parse(text) == .double(sample), "\(text)")
        }
        // Just below 2^63 the exact digits fit in Int64 and read back as the same number, an integer.
        #expect(try JSONValue.parse(JSONValue.double(0x1p63 - 1024).serialized()) == .int(9223372036854774784))
    }

    @Test func integersAreExact() {
        #expect(JSONValue.int(.max).serialized() == "9223372036854775807")
        #expect(JSONValue.int(.min).serialized() == "-9223372036854775808")
        #expect(JSONValue.int(0).serialized() == "0")
        #expect(JSONValue.int(123456789012345678).serialized() == "123456789012345678")
    }

    @Test func compactOutputHasNoWhitespace() {
        let value: JSONValue = ["a": 1, "b": [true, nil], "c": [:], "d": [], "e": ["x": "y"]]
        #expect(value.serialized() == #"{"a":1,"b":[true,null],"c":{},"d":[],"e":{"x":"y"}}"#)
        #expect(value.serializedBytes() == Array(value.serialized().utf8))
    }

    @Test func stringsEscapeOnlyWhatJSONRequires() {
        let raw = "\u{8}\u{C}\n\r\t\u{0}\u{1}\u{1F}\"\\/\u{7F}é😀\u{2028}"
        let expected = #""\b\f\n\r\t\u0000\u0001\u001f\"\\/"# + "\u{7F}é😀\u{2028}\""
        #expect(JSONValue.string(raw).serialized() == expected)
        #expect(JSONValue.string("").serialized() == "\"\"")
        #expect(JSONValue.string("plain").serialized() == "\"plain\"")
        #expect(JSONValue.object(["k\"\n": 1]).serialized() == #"{"k\"\n":1}"#)
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        let value = JSONValue.string(controls + "end")
        let text = value.serialized()
        #expect(!text.utf8.contains { $0 < 0x20 })
        #expect(try JSONValue.parse(text) == value)
    }

    @Test func prettyPrintingMatchesJSONStringifyWithIndent() {
        let value: JSONValue = ["a": 1, "b": [true, nil], "c": [:], "d": [], "e": ["x": 0.5]]
        let expected = """
            {
              "a": 1,
              "b": [
                true,
                null
              ],
              "c": {},
              "d": [],
              "e": {
                "x": 0.5
              }
            }
            """
        #expect(value.prettyPrinted() == expected)
        #expect(JSONValue.array([1, [2]]).prettyPrinted(indent: 4) == "[\n    1,\n    [\n        2\n    ]\n]")
        #expect(JSONValue.array([1]).prettyPrinted(indent: 0) == "[\n1\n]")
        #expect(JSONValue.int(3).prettyPrinted() == "3")
    }

    @Test func prettyOutputParsesBackToTheSameValue() throws {
        let value: JSONValue = ["z": ["y": [1, 2.5, "s\n"]], "a": nil]
        #expect(try JSONValue.parse(value.prettyPrinted()) == value)
    }
}
