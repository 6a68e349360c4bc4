import Testing
@testable import Tributary

/// Inputs the fuzz targets (Fuzz/, docs/fuzzing.md) found, each checked here with the invariant it broke. Each
/// input is also in the target's seed corpus (Fuzz/Corpus/TARGET/regression-*), so every fuzzing run retries it.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// `json`: `218446744073709551616E-2` is the double 2184467440737095424. Its shortest digits padded with zeros,
    /// as JavaScript writes it (`2184467440737095400`), read back as that exact integer: a different number.
    @Test("an integral double between 2^53 and 2^63 serializes to text that reads back as the same number")
    func integralDoubleAbove2To53KeepsItsValue() throws {
        let parsed = try JSONValue.parse("218446744073709551616E-2")
        #expect(parsed == .double(2_184_467_440_737_095_424))
        let reread = try JSONValue.parse(parsed.serialized())
        #expect(reread.intValue == 2_184_467_440_737_095_424)
        #expect(reread.doubleValue == parsed.doubleValue)
        for sample: Double in [0x1p63 - 1024, 0x1p53 + 2, -0x1p62 - 2048, 0x1p60 + 0x1p8] {
            #expect(try JSONValue.parse(JSONValue.double(sample).serialized()).intValue == Int64(exactly: sample), "\(sample)")
        }
    }

    /// `redis-url`: a "scheme" that is not one (here everything before the `://` inside a query) was echoed in the
    /// error, while the redacted URL in the same message hid it as credentials: the text before an `@` could leak.
    @Test("an invalid scheme is not echoed in the error: nothing the redaction hides shows up")
    func invalidSchemeIsNotEchoed() throws {
        let url = "pass%word@u/host?x://u:p"
        let error = try #require(throws: RedisClientError.self) { try RedisConfiguration(url: url) }
        #expect(!error.description.contains("pass%word"))
        #expect(error.description.contains(RedisConfiguration.redacted(url: url)))
        // A real but unsupported scheme is still named.
        let http = try #require(throws: RedisClientError.self) { try RedisConfiguration(url: "http://u:pw@host") }
        #expect(http.description.contains("scheme 'http'") && !http.description.contains("pw"))
    }

    /// `redis-url`: `%+e` decoded to the byte 0x0E and `%-0` to NUL: the two characters after `%` went through
    /// `UInt8(_:radix:)`, which takes a sign. Only two hexadecimal digits make an escape.
    @Test("a percent sign followed by a sign and a digit is not an escape")
    func percentEscapeNeedsTwoHexDigits() throws {
        #expect(try RedisConfiguration(url: "redis://:a%+eb@host").password == "a%+eb")
        #expect(try RedisConfiguration(url: "redis://:a%-0b@host").password == "a%-0b")
        #expect(try RedisConfiguration(url: "redis://:a%2Bb%2fc@host").password == "a+b/c")
        #expect(RedisConfiguration.percentDecoded("%+e%-0%4%zz%") == "%+e%-0%4%zz%")
    }

    /// `redis-url`: `connect_timeout=2444…4s` (52 digits) stopped the process: the milliseconds went through
    /// `Int64(_:)`, which traps beyond `Int64.max`. A duration that large is now refused like any malformed one.
    @Test("a timeout beyond Int64 milliseconds in a URL is an invalidURL error, not a crash")
    func hugeTimeoutIsRefused() throws {
        for value in ["2444444444444444444444444444444444444444444444444444s", "1e300", "9223372036854775808ms", "1e16m"] {
            let error = try #require(throws: RedisClientError.self) { try RedisConfiguration(url: "redis://h?connect_timeout=\(value)") }
            #expect(error.code == .invalidURL && error.description.contains("connect_timeout=\(value)"))
            #expect(throws: RedisClientError.self) { try RedisConfiguration(url: "redis://h?command_timeout=\(value)") }
        }
        #expect(try RedisConfiguration(url: "redis://h?connect_timeout=2.5&command_timeout=1m").connectTimeout == .milliseconds(2500))
    }
}
