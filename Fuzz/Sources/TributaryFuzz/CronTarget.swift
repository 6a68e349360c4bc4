import Foundation
@testable import Tributary

extension FuzzTarget {
    /// Cron pattern text → ``CronExpression`` → the next few fire times in a time zone.
    ///
    /// The first byte picks a zone (UTC and zones with unusual daylight-saving rules), the next six a start time
    /// between 1970 and 2120, the rest is the pattern. For a pattern that parses, up to four successive fire times
    /// must each be a whole second and later than the one before; asking from any instant between two fire times
    /// must give the later one (nothing was skipped); and in UTC each fire time must match every field.
    static let cron = FuzzTarget(
        name: "cron",
        summary: "cron pattern -> CronExpression -> next times in a zone: increasing, whole seconds, none skipped"
    ) { input in
        var reader = FuzzReader(input)
        let zone = fuzzZones[Int(reader.byte()) % fuzzZones.count]
        let start = Int64(reader.integer(bytes: 6) % 4_733_510_400_000)  // 1970-01-01 … 2120-01-01
        let halfway = reader.byte()
        let pattern = String(decoding: reader.rest, as: UTF8.self)
        let expression: CronExpression
        do throws(CronError) {
            expression = try CronExpression(pattern)
        } catch {
            guard !error.message.isEmpty else { violated("an empty error for \(printable(pattern.utf8))") }
            return
        }
        var previous = start
        for _ in 0..<4 {
            guard let next = expression.next(after: previous, in: zone) else { return }
            guard next > previous, next % 1000 == 0 else {
                violated("\(printable(pattern.utf8)) in \(zone.identifier): after \(previous) comes \(next)")
            }
            // An instant between the two: asking from there must land on the same fire time.
            let between = previous + (next - previous - 1) * Int64(halfway) / 255
            guard expression.next(after: between, in: zone) == next else {
                violated("\(printable(pattern.utf8)) in \(zone.identifier): after \(previous) comes \(next), but after \(between) comes \(expression.next(after: between, in: zone).map(String.init) ?? "nothing")")
            }
            if zone.identifier == "GMT" {
                checkFields(expression, at: next)
            }
            previous = next
        }
    }
}

/// UTC and zones whose daylight-saving rules are unusual: half-hour shifts (Lord Howe), 45-minute offsets
/// (Chatham, Kathmandu), changes at midnight (Santiago, Havana), southern hemisphere, a zone that skipped a whole day
/// (Apia, end of 2011).
private let fuzzZones: [TimeZone] = [
    "GMT", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu",
    "America/Santiago", "America/Havana", "Pacific/Apia", "Europe/London",
].compactMap { TimeZone(identifier: $0) }

/// In UTC a fire time's calendar fields must all match the pattern (checked with Foundation's calendar, not with
/// the civil-date arithmetic the evaluator uses).
private func checkFields(_ expression: CronExpression, at milliseconds: Int64) {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "GMT")!
    let date = Date(timeIntervalSince1970: Double(milliseconds / 1000))
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    guard let year = parts.year, let month = parts.month, let day = parts.day, let hour = parts.hour,
          let minute = parts.minute, let second = parts.second, let weekday = parts.weekday else {
        violated("no calendar fields for \(milliseconds)")
    }
    let lastDay = calendar.range(of: .day, in: .month, for: date)!.upperBound - 1
    var byMonthDay = expression.daysOfMonth.contains(day)
    if expression.lastDayOfMonth && day == lastDay { byMonthDay = true }
    let byWeekDay = expression.daysOfWeek.contains(weekday - 1)
    let dayMatches: Bool
    switch (expression.dayOfMonthRestricted, expression.dayOfWeekRestricted) {
    case (true, true): dayMatches = byMonthDay || byWeekDay
    case (true, false): dayMatches = byMonthDay
    case (false, true): dayMatches = byWeekDay
    case (false, false): dayMatches = true
    }
    guard expression.seconds.contains(second), expression.minutes.contains(minute), expression.hours.contains(hour),
          expression.months.contains(month), dayMatches else {
        violated("'\(expression.source)' fires at \(year)-\(month)-\(day) \(hour):\(minute):\(second) UTC, which it does not match")
    }
}
