extension RedisConfiguration {
    /// Parses a Redis URL (see ``RedisConfiguration`` for the accepted forms).
    ///
    /// - Throws: ``RedisClientError`` with code `invalidURL` and a message naming the part that is wrong.
    public init(url: String) throws {
        self.init()
        // Only a real scheme (a letter, then letters, digits, '+', '-', '.') is named in errors: text before "://"
        // that holds '@', '/' or '?' may be credentials, which the redacted URL in the message hides.
        guard let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://"), Self.isScheme(url[..<colon]) else {
            throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' is not a Redis URL: expected redis://, rediss://, unix:// or redis+unix://")
        }
        let scheme = url[..<colon].lowercased()
        var rest = url[url.index(colon, offsetBy: 3)...]
        var query: [(String, String)] = []
        if let mark = rest.firstIndex(of: "?") {
            query = try Self.parseQuery(rest[rest.index(after: mark)...], url: url)
            rest = rest[..<mark]
        }
        switch scheme {
        case "redis", "rediss":
            try parseNetworkLocation(rest, url: url)
            if scheme == "rediss" { tls = TLS() }
        case "unix", "redis+unix":
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has no socket path: write unix:///path/to/redis.sock")
            }
            endpoint = .unixSocket(path: Self.percentDecoded(rest))
        default:
            throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has scheme '\(scheme)'; expected redis, rediss, unix or redis+unix")
        }
        for (key, value) in query {
            try apply(queryItem: key, value: value, url: url)
        }
    }

    /// Whether `text` has the syntax of a URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-` or `.`).
    private static func isScheme(_ text: Substring) -> Bool {
        func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        guard let first = text.unicodeScalars.first, isLetter(first) else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0) }
    }

    private mutating func parseNetworkLocation(_ location: Substring, url: String) throws {
        var authority = location
        if let slash = location.firstIndex(of: "/") {
            authority = location[..<slash]
            let path = location[location.index(after: slash)...]
            if !path.isEmpty {
                guard let number = Int(path), number >= 0 else {
                    throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has database '\(path)'; it must be a number such as /0")
                }
                database = number
            }
        }
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                let user = userInfo[..<colon]
                username = user.isEmpty ? nil : Self.percentDecoded(user)
                password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...])
            } else if !userInfo.isEmpty {
                username = Self.percentDecoded(userInfo)
            }
        }
        let addresses = try authority.split(separator: ",", omittingEmptySubsequences: false).map {
            try Self.parseAddress($0, url: url)
        }
        endpoint = addresses[0]
        seeds = Array(addresses.dropFirst())
    }

    /// One `host[:port]` (or `[ipv6][:port]`) of a URL.
    private static func parseAddress(_ authority: Substring, url: String) throws -> Endpoint {
        var host = authority
        var port = 6379
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has an IPv6 address without its closing ']'")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else {
                    throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has a malformed port after the IPv6 address")
                }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            let portText = authority[authority.index(after: colon)...]
            guard let number = Int(portText) else {
                throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has port '\(portText)'; it must be a number")
            }
            port = number
        }
        guard (1...65535).contains(port) else {
            throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has port \(port); it must be between 1 and 65535")
        }
        return .tcp(host: host.isEmpty ? "127.0.0.1" : String(host), port: port)
    }

    private static let queryKeys = [
        "db", "password", "user", "username", "name", "connect_timeout", "command_timeout", "ca", "cert", "key",
        "verify_hostname", "server_name",
    ]

    /// A duration in a URL: seconds (`2.5`), or a number with `ms`, `s` or `m`; `nil` when malformed, negative, or
    /// too long to count in `Int64` milliseconds (about 292 million years).
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        let lowered = text.lowercased()
        for (suffix, factor) in units where lowered.hasSuffix(suffix) {
            if let value = Double(lowered.dropLast(suffix.count)), value >= 0 {
                return milliseconds(value * factor * 1000)
            }
        }
        guard let value = Double(lowered), value >= 0 else { return nil }
        return milliseconds(value * 1000)
    }

    /// `count` milliseconds, rounded, or `nil` when not finite or beyond `Int64` (where `Int64(_:)` would trap).
    private static func milliseconds(_ count: Double) -> Duration? {
        Int64(exactly: count.rounded()).map { .milliseconds($0) }
    }

    private mutating func apply(queryItem key: String, value: String, url: String) throws {
        switch key {
        case "db":
            guard let number = Int(value), number >= 0 else {
                throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has db=\(value); it must be a number")
            }
            database = number
        case "password": password = value
        case "user", "username": username = value
        case "name": clientName = value
        case "connect_timeout", "command_timeout":
            guard let duration = Self.parseDuration(value), key == "command_timeout" || duration > .zero else {
                throw RedisClientError(
                    .invalidURL, "'\(RedisConfiguration.redacted(url: url))' has \(key)=\(value); write seconds or a duration such as 500ms, 5s or 2m")
            }
            if key == "connect_timeout" {
                connectTimeout = duration
            } else {
                commandTimeout = duration == .zero ? nil : duration
            }
        case "ca", "cert", "key", "verify_hostname", "server_name":
            guard tls != nil else {
                throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' sets TLS option '\(key)' but is not a rediss:// URL")
            }
            switch key {
            case "ca": tls?.caFile = value
            case "cert": tls?.certificateFile = value
            case "key": tls?.keyFile = value
            case "server_name": tls?.serverName = value
            default:
                guard let flag = ["true": true, "1": true, "yes": true, "false": false, "0": false, "no": false][value.lowercased()] else {
                    throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has verify_hostname=\(value); use true or false")
                }
                tls?.verifyHostname = flag
            }
        default:
            throw RedisClientError(
                .invalidURL,
                "'\(RedisConfiguration.redacted(url: url))' has unknown option '\(key)'; known options: \(Self.queryKeys.joined(separator: ", "))")
        }
    }

    private static func parseQuery(_ text: Substring, url: String) throws -> [(String, String)] {
        try text.split(separator: "&").map { item in
            guard let equals = item.firstIndex(of: "=") else {
                throw RedisClientError(.invalidURL, "'\(RedisConfiguration.redacted(url: url))' has query item '\(item)' without a value")
            }
            return (percentDecoded(item[..<equals]).lowercased(), percentDecoded(item[item.index(after: equals)...]))
        }
    }

    /// Decodes `%XX` escapes, `XX` being exactly two hexadecimal digits, and leaves anything else as it is.
    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let high = hexDigitValue(utf8[utf8.startIndex]), let low = hexDigitValue(utf8[utf8.startIndex + 1]) {
                bytes.append(high << 4 | low)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of an ASCII hexadecimal digit (`0`-`9`, `a`-`f`, `A`-`F`), or `nil`. (`UInt8(_:radix:)` would also
    /// take a leading `+` or `-`.)
    private static func hexDigitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
