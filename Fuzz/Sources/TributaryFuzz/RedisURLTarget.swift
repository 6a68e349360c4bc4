@testable import Tributary

extension FuzzTarget {
    /// Redis URL text → configuration, and the redaction that keeps its password out of logs and errors.
    ///
    /// - Redacting is idempotent.
    /// - The redacted URL parses exactly like the original (same error message, or the same configuration), except
    ///   that a password, wherever the parser found it, reads `***`. So the redactor hides everything the parser
    ///   takes for a password, and no error message carries a password (it would differ between the two).
    /// - A configuration's description, debug description and mirror do not change with its password.
    /// - `%XX` decoding takes exactly two hexadecimal digits.
    static let redisURL = FuzzTarget(
        name: "redis-url",
        summary: "Redis URL -> RedisConfiguration; redacted URL must parse the same but with password ***, no leaks"
    ) { input in
        let url = String(decoding: input, as: UTF8.self)
        let redacted = RedisConfiguration.redacted(url: url)
        guard RedisConfiguration.redacted(url: redacted) == redacted else {
            violated("redacting twice changes the text: \(printable(redacted.utf8)) from \(printable(url.utf8))")
        }
        let original = Result { try RedisConfiguration(url: url) }
        let fromRedacted = Result { try RedisConfiguration(url: redacted) }
        switch (original, fromRedacted) {
        case (.failure(let error), .failure(let redactedError)):
            guard "\(error)" == "\(redactedError)" else {
                violated("the error depends on the password: \(printable("\(error)".utf8)) vs \(printable("\(redactedError)".utf8))")
            }
        case (.success(let configuration), .success(let redactedConfiguration)):
            var expected = configuration
            if expected.password != nil { expected.password = RedisConfiguration.redactedPassword }
            guard sameSettings(expected, redactedConfiguration) else {
                violated("the redacted URL \(printable(redacted.utf8)) reads as \(redactedConfiguration.settingsText), the original \(printable(url.utf8)) as \(configuration.settingsText)")
            }
            if let password = configuration.password { checkPasswordHidden(configuration, password: password) }
        case (.success(let configuration), .failure(let error)):
            violated("\(printable(url.utf8)) parses (\(configuration.settingsText)) but its redacted form \(printable(redacted.utf8)) does not: \(error)")
        case (.failure(let error), .success):
            violated("\(printable(url.utf8)) fails (\(error)) but its redacted form \(printable(redacted.utf8)) parses")
        }
        let decoded = RedisConfiguration.percentDecoded(Substring(url))
        guard Array(decoded.utf8) == strictPercentDecoded(Array(url.utf8)) else {
            violated("percent-decoding \(printable(url.utf8)) gives \(printable(decoded.utf8))")
        }
    }
}

/// Every setting a URL can give, password included, compared field by field.
private func sameSettings(_ left: RedisConfiguration, _ right: RedisConfiguration) -> Bool {
    left.settingsText == right.settingsText
}

extension RedisConfiguration {
    /// Every setting a URL can give, password included, as text (only for messages and comparisons in the fuzzer).
    fileprivate var settingsText: String {
        "endpoint=\(endpoint) user=\(username ?? "nil") password=\(password ?? "nil") db=\(database) tls=\(tls.map { "\($0)" } ?? "nil") "
            + "name=\(clientName ?? "nil") connect=\(connectTimeout) command=\(commandTimeout.map { "\($0)" } ?? "nil")"
    }
}

/// The texts a person may see of a configuration with a password must not depend on it.
private func checkPasswordHidden(_ configuration: RedisConfiguration, password: String) {
    var other = configuration
    other.password = password + "-another"
    func texts(_ configuration: RedisConfiguration) -> [String] {
        var dumped = ""
        dump(configuration, to: &dumped)
        return [configuration.description, configuration.debugDescription, String(reflecting: configuration), dumped]
    }
    guard texts(configuration) == texts(other) else {
        violated("a description of the configuration changes with the password: \(texts(configuration))")
    }
}

/// `%XX` decoding as RFC 3986 defines it: `%` followed by exactly two hexadecimal digits is one byte; anything else
/// (including a `%` without two hex digits after it) stays as it is. Invalid UTF-8 becomes U+FFFD, as in `String`.
private func strictPercentDecoded(_ text: [UInt8]) -> [UInt8] {
    func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var bytes: [UInt8] = []
    var index = 0
    while index < text.count {
        if text[index] == UInt8(ascii: "%"), index + 2 < text.count,
           let high = hex(text[index + 1]), let low = hex(text[index + 2]) {
            bytes.append(high << 4 | low)
            index += 3
        } else {
            bytes.append(text[index])
            index += 1
        }
    }
    return Array(String(decoding: bytes, as: UTF8.self).utf8)
}
