import Foundation

/// Fields of a query string or of an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte).
struct FormFields: Sendable {
    private(set) var values: [String: String] = [:]

    init(_ text: String?) {
        guard let text, !text.isEmpty else { return }
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0])
            guard !key.isEmpty, values[key] == nil else { continue }
            values[key] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
    }

    subscript(_ key: String) -> String? { values[key] }

    /// A non-empty value, trimmed.
    func text(_ key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// Percent-encoding for the parts of the dashboard's URLs.
enum URLText {
    private static let unreserved: CharacterSet = {
        var set = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        set.insert(charactersIn: "-._~")
        return set
    }()

    /// One path segment or query value.
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// `key=value&…`, leaving out empty values.
    static func query(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { key, value in value.flatMap { $0.isEmpty ? nil : "\(key)=\(encode($0))" } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}
