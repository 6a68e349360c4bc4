/// Keeping passwords out of logs, errors and process listings.
extension RedisConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// What a redacted password is replaced with.
    public static let redactedPassword = "***"

    /// `url` with its password replaced by `***`: the one in the user info (`redis://user:***@host`) and a
    /// `password=` query item. Everything else (scheme, user, host, port, database, other options) is kept, so the
    /// text still tells a person which server and user were meant. Text that is not a well-formed URL is redacted
    /// the same way: whatever stands between the scheme and a `@` is treated as user info.
    public static func redacted(url: String) -> String {
        var text = Substring(url)
        var query: Substring = ""
        if let mark = text.firstIndex(of: "?") {
            query = text[mark...]
            text = text[..<mark]
        }
        var result = String(text)
        if let schemeEnd = text.range(of: "://")?.upperBound {
            let afterScheme = text[schemeEnd...]
            let authorityEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            if let at = afterScheme[..<authorityEnd].lastIndex(of: "@"), let colon = afterScheme[..<at].firstIndex(of: ":") {
                result = String(text[..<colon]) + ":" + redactedPassword + String(text[at...])
            }
        } else if let at = text.lastIndex(of: "@") {
            // Not a URL at all: no way to tell a user from a password, so all of what comes before the '@' goes.
            result = redactedPassword + String(text[at...])
        }
        if !query.isEmpty {
            let items = query.dropFirst().split(separator: "&", omittingEmptySubsequences: false).map { item -> String in
                guard let equals = item.firstIndex(of: "="),
                      percentDecoded(item[..<equals]).lowercased() == "password" else { return String(item) }
                return String(item[...equals]) + redactedPassword
            }
            result += "?" + items.joined(separator: "&")
        }
        return result
    }

    /// The configuration as a URL-like text without its password, e.g. `redis://worker:***@10.0.0.5:6379/2`.
    public var description: String {
        let scheme: String
        switch endpoint {
        case .tcp: scheme = tls == nil ? "redis://" : "rediss://"
        case .unixSocket: scheme = "unix://"
        }
        var credentials = ""
        if password != nil { credentials = (username ?? "") + ":" + Self.redactedPassword + "@" }
        else if let username { credentials = username + "@" }
        return scheme + credentials + endpoint.description + (database == 0 ? "" : "/\(database)")
    }

    /// The same as ``description``: the password never shows, not even in a debugger's or `dump`'s output.
    public var debugDescription: String { "RedisConfiguration(\(description))" }

    /// The parts of the configuration, the password redacted.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "endpoint": endpoint, "username": username as Any,
            "password": password == nil ? nil as String? as Any : Self.redactedPassword,
            "database": database, "tls": tls as Any, "clientName": clientName as Any,
            "connectTimeout": connectTimeout, "commandTimeout": commandTimeout as Any,
        ], displayStyle: .struct)
    }
}
