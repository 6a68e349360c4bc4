import Foundation

/// ISO 8601 times as BullMQ's schedulers accept them for `startDate` and `endDate` (`2026-12-01T02:00:00Z`,
/// `2026-12-01T02:00:00+01:00`, with or without fractional seconds).
enum ISODate {
    /// ms since 1970 of an ISO 8601 time with a zone offset (or `Z`), or `nil` when it is not one.
    static func milliseconds(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        return nil
    }

    /// An instant (ms since 1970) as ISO 8601 in a time zone, to the second: `2026-12-01T02:00:00+01:00`
    /// (`Z` for UTC).
    static func text(_ milliseconds: Int64, in zone: TimeZone = .gmt) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
