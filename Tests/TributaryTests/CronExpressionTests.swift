import Foundation
import Testing
@testable import Tributary

@Suite("Cron patterns")
struct CronExpressionTests {
    /// ms since 1970 of an ISO 8601 time with its offset.
    static func ms(_ iso: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: iso) else { fatalError("bad ISO time \(iso)") }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    static func iso(_ ms: Int64?, _ zone: TimeZone) -> String {
        guard let ms else { return "never" }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// The next `count` firing times after `start`, as ISO 8601 times in the zone (UTC shown as Z).
    static func firings(_ pattern: String, tz: String = "UTC", from start: String, count: Int) throws -> [String] {
        let zone = try #require(TimeZone(identifier: tz))
        let cron = try CronExpression(pattern)
        var at = ms(start)
        var out: [String] = []
        for _ in 0..<count {
            guard let next = cron.next(after: at, in: zone) else { out.append("never"); break }
            #expect(next > at)
            out.append(iso(next, zone))
            at = next
        }
        return out
    }

    @Test("five fields: steps, ranges, lists and names")
    func fiveFields() throws {
        #expect(try Self.firings("5-50/15 * * * *", from: "2026-01-01T00:00:00Z", count: 5) == [
            "2026-01-01T00:05:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:35:00Z", "2026-01-01T00:50:00Z",
            "2026-01-01T01:05:00Z",
        ])
        #expect(try Self.firings("10/20 * * * *", from: "2026-01-01T00:00:00Z", count: 4) == [
            "2026-01-01T00:10:00Z", "2026-01-01T00:30:00Z", "2026-01-01T00:50:00Z", "2026-01-01T01:10:00Z",
        ])
        #expect(try Self.firings("15 10 * * MON-FRI", from: "2026-01-01T00:00:00Z", count: 3) == [
            "2026-01-01T10:15:00Z", "2026-01-02T10:15:00Z", "2026-01-05T10:15:00Z",
        ])
        #expect(try Self.firings("0 0 1 JAN,jul *", from: "2026-01-01T00:00:00Z", count: 3) == [
            "2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z",
        ])
        #expect(try Self.firings("0 */5 * * *", from: "2026-01-01T00:00:00Z", count: 5) == [
            "2026-01-01T05:00:00Z", "2026-01-01T10:00:00Z", "2026-01-01T15:00:00Z", "2026-01-01T20:00:00Z",
            "2026-01-02T00:00:00Z",
        ])
        #expect(try Self.firings("@weekly", from: "2026-01-01T00:00:00Z", count: 2) == [
            "2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z",
        ])
    }

    @Test("six fields: seconds first")
    func sixFields() throws {
        #expect(try Self.firings("*/7 * * * * *", from: "2026-01-01T00:00:00Z", count: 10) == [
            "2026-01-01T00:00:07Z", "2026-01-01T00:00:14Z", "2026-01-01T00:00:21Z", "2026-01-01T00:00:28Z",
            "2026-01-01T00:00:35Z", "2026-01-01T00:00:42Z", "2026-01-01T00:00:49Z", "2026-01-01T00:00:56Z",
            "2026-01-01T00:01:00Z", "2026-01-01T00:01:07Z",
        ])
        #expect(try Self.firings("30 0 12 * * *", from: "2026-01-01T12:00:30Z", count: 2) == [
            "2026-01-02T12:00:30Z", "2026-01-03T12:00:30Z",
        ])
        // Strictly after: a time on a slot goes to the next slot; a time inside a second goes to the next second.
        let everySecond = try CronExpression("* * * * * *")
        #expect(everySecond.next(after: 1_000, in: .gmt) == 2_000)
        #expect(everySecond.next(after: 1_999, in: .gmt) == 2_000)
        #expect(everySecond.next(after: -1, in: .gmt) == 0)
    }

    @Test("day of month and day of week: either when both are restricted, as in cron-parser")
    func dayRule() throws {
        // 1st, 15th and every Friday.
        #expect(try Self.firings("0 0 1,15 * 5", from: "2026-01-01T00:00:00Z", count: 6) == [
            "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-15T00:00:00Z", "2026-01-16T00:00:00Z",
            "2026-01-23T00:00:00Z", "2026-01-30T00:00:00Z",
        ])
        // Day of month covering 1-31 counts as unrestricted (cron-parser): Mondays only.
        #expect(try Self.firings("0 0 1-31 * 1", from: "2026-01-01T00:00:00Z", count: 2) == [
            "2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z",
        ])
        // Day of week 0-6 is restricted (it is not the full 0-7): with a day of month, either matches.
        #expect(try Self.firings("0 0 */10 * 1-5", from: "2026-01-01T00:00:00Z", count: 4) == [
            "2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z",
        ])
        #expect(try Self.firings("0 0 * * 7", from: "2026-01-01T00:00:00Z", count: 2) == [
            "2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z",
        ])
        #expect(try Self.firings("0 0 ? * SUN", from: "2026-01-01T00:00:00Z", count: 1) == ["2026-01-04T00:00:00Z"])
    }

    @Test("month ends, leap days and L")
    func monthEnds() throws {
        #expect(try Self.firings("0 0 31 * *", from: "2026-01-01T00:00:00Z", count: 5) == [
            "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
            "2026-08-31T00:00:00Z",
        ])
        #expect(try Self.firings("0 0 29 2 *", from: "2026-01-01T00:00:00Z", count: 2) == [
            "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z",
        ])
        #expect(try Self.firings("0 0 L * *", from: "2028-01-01T00:00:00Z", count: 3) == [
            "2028-01-31T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z",
        ])
        #expect(try Self.firings("0 0 L 2 *", from: "2099-03-01T00:00:00Z", count: 2) == [
            "2100-02-28T00:00:00Z", "2101-02-28T00:00:00Z",
        ])
        // 2100 is not a leap year: the next 29 February after 2096 is in 2104, eight years on.
        #expect(try Self.firings("0 0 29 2 *", from: "2096-03-01T00:00:00Z", count: 1) == ["2104-02-29T00:00:00Z"])
        // The end of a year, across into the next.
        #expect(try Self.firings("59 23 31 12 *", from: "2026-12-31T23:59:00Z", count: 1) == ["2027-12-31T23:59:00Z"])
    }

    @Test("daylight saving in Europe/Berlin: a skipped 02:30 fires at 03:30, a repeated one once")
    func berlinDST() throws {
        // 2026-03-29: 02:00 CET -> 03:00 CEST.
        #expect(try Self.firings("30 2 * * *", tz: "Europe/Berlin", from: "2026-03-28T12:00:00+01:00", count: 3) == [
            "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00",
        ])
        // 2026-10-25: 03:00 CEST -> 02:00 CET; a named hour fires in the first pass only.
        #expect(try Self.firings("30 2 * * *", tz: "Europe/Berlin", from: "2026-10-24T12:00:00+02:00", count: 3) == [
            "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00", "2026-10-27T02:30:00+01:00",
        ])
        // Every hour: both passes, evenly spaced.
        #expect(try Self.firings("*/30 * * * *", tz: "Europe/Berlin", from: "2026-10-25T01:00:00+02:00", count: 6) == [
            "2026-10-25T01:30:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:00:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00",
        ])
        // Spring forward with every hour: 02:00 and 02:30 do not exist; 03:00 fires once.
        #expect(try Self.firings("*/30 * * * *", tz: "Europe/Berlin", from: "2026-03-29T01:00:00+01:00", count: 4) == [
            "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00",
            "2026-03-29T04:00:00+02:00",
        ])
        // A daily run at midnight is 24 h apart, except across the change (23 h).
        let midnight = try Self.firings("0 0 * * *", tz: "Europe/Berlin", from: "2026-03-28T12:00:00+01:00", count: 2)
        #expect(midnight == ["2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"])
    }

    @Test("daylight saving in America/New_York and Australia/Lord_Howe (a 30-minute change)")
    func otherZonesDST() throws {
        // 2026-03-08: 02:00 EST -> 03:00 EDT.
        #expect(try Self.firings("30 2 * * *", tz: "America/New_York", from: "2026-03-07T12:00:00-05:00", count: 2) == [
            "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00",
        ])
        // 2026-11-01: 02:00 EDT -> 01:00 EST: 01:30 exists twice and fires once.
        #expect(try Self.firings("30 1 * * *", tz: "America/New_York", from: "2026-10-31T12:00:00-04:00", count: 3) == [
            "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00",
        ])
        #expect(try Self.firings("0 * * * *", tz: "America/New_York", from: "2026-11-01T00:30:00-04:00", count: 3) == [
            "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00",
        ])
        // Lord Howe moves 30 minutes: 2026-10-04 02:00 +10:30 -> 02:30 +11:00; 02:15 fires at 02:45.
        #expect(try Self.firings("15 2 * * *", tz: "Australia/Lord_Howe", from: "2026-10-03T12:00:00+10:30", count: 2) == [
            "2026-10-04T02:45:00+11:00", "2026-10-05T02:15:00+11:00",
        ])
    }

    @Test("bad patterns name the field and the problem")
    func errors() {
        func message(_ pattern: String) -> String {
            do {
                _ = try CronExpression(pattern)
                return "parsed"
            } catch { return error.message }
        }
        #expect(message("0 25 * * *") == "hour: 25 is out of range 0-23")
        #expect(message("* * * *") == "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), found 4")
        #expect(message("*/0 * * * *") == "minute: step '0' in '*/0' must be a whole number of at least 1")
        #expect(message("0 0 * FOO *") == "month: 'FOO' is not a number or one of JAN, FEB, MAR, APR, MAY, JUN, JUL, AUG, SEP, OCT, NOV, DEC")
        #expect(message("0 0 10-5 * *") == "day of month: range '10-5' goes backwards")
        #expect(message("0 0 30 2 *") == "day of month: no month of the pattern has such a day")
        #expect(message("0 0 1,,2 * *") == "day of month: '1,,2' has an empty list item")
        #expect(message("0 0 * * L") == "day of week: 'L' is not a number or one of SUN, MON, TUE, WED, THU, FRI, SAT")
        #expect((try? CronExpression(" 0 12 * * * ")) != nil)
    }

    @Test("civil date arithmetic round-trips across centuries")
    func civil() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let date = CivilDate.date(days: days)
            #expect(CivilDate.days(year: date.year, month: date.month, day: date.day) == days)
        }
        #expect(CivilDate.weekday(days: 0) == 4)  // 1970-01-01, a Thursday
        #expect(CivilDate.weekday(days: CivilDate.days(year: 2026, month: 12, day: 1)) == 2)  // a Tuesday
    }
}
