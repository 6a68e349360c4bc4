public import Foundation

extension CronExpression {
    /// How far ahead ``next(after:in:)`` looks before deciding that a pattern never fires again (`0 0 29 2 1`
    /// needs years; eight cover every leap-day pattern, 2096 to 2104 included).
    static let searchYears = 9

    /// The first time after `milliseconds` (ms since 1970) at which the pattern fires in `timeZone`, in ms since
    /// 1970 (always a whole second), or `nil` when it never fires again within nine years.
    ///
    /// The pattern is matched on the zone's wall clock. Around daylight-saving changes:
    /// - a wall time the change skips (02:30 on the night clocks go from 02:00 to 03:00) fires at the same distance
    ///   after the change (03:30), once, as cron-parser and croniter do;
    /// - a wall time the change repeats (02:30 on the night clocks go back from 03:00 to 02:00) fires in its first
    ///   pass only, unless the pattern matches every hour (`*/15 * * * *`): such a pattern fires in both passes, so
    ///   its runs stay evenly spaced in elapsed time.
    public func next(after milliseconds: Int64, in timeZone: TimeZone = .gmt) -> Int64? {
        let after = CivilDate.floorDiv(milliseconds, 1000)  // the answer is a second > after
        let zone = ZoneOffsets(timeZone)
        var (lowest, highest) = zone.offsetRange(around: after)
        // Wall times up to (highest - lowest) before the wall time of `after` can still map to a later instant.
        var wall = after + 1 + Int64(zone.offset(at: after + 1)) - Int64(highest - lowest)
        let limit = wall + Int64(Self.searchYears) * 366 * 86_400
        var best: Int64?
        while wall <= limit, let candidate = nextWallTime(atOrAfter: wall) {
            // Later wall times map to instants of at least (wall time - largest offset): none can beat `best`.
            if let best, candidate - Int64(highest) > best { break }
            for instant in zone.instants(ofWallTime: candidate, bothPasses: everyHour) where instant > after {
                if best.map({ instant < $0 }) ?? true { best = instant }
            }
            if let best { (lowest, highest) = zone.offsetRange(around: best) }
            wall = candidate + 1
        }
        return best.map { $0 * 1000 }
    }

    /// The first wall time (seconds, zone-free) at or after `wall` that the pattern matches.
    func nextWallTime(atOrAfter wall: Int64) -> Int64? {
        var days = Int(CivilDate.floorDiv(wall, 86_400))
        var secondOfDay = Int(wall - Int64(days) * 86_400)
        let lastDay = days + Self.searchYears * 366
        while days <= lastDay {
            let date = CivilDate.date(days: days)
            if !months.contains(date.month) {
                // The first day of the next month.
                let (year, month) = date.month == 12 ? (date.year + 1, 1) : (date.year, date.month + 1)
                days = CivilDate.days(year: year, month: month, day: 1)
                secondOfDay = 0
                continue
            }
            if matchesDay(year: date.year, month: date.month, day: date.day, weekday: CivilDate.weekday(days: days)),
               let time = firstTime(atOrAfter: secondOfDay) {
                return Int64(days) * 86_400 + Int64(time)
            }
            days += 1
            secondOfDay = 0
        }
        return nil
    }

    /// The first second of a day at or after `secondOfDay` that the time fields match.
    private func firstTime(atOrAfter secondOfDay: Int) -> Int? {
        let (hour, minute, second) = (secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60)
        var nextHour = hours.first(from: hour, through: 23)
        while let h = nextHour {
            let fromMinute = h == hour ? minute : 0
            var nextMinute = minutes.first(from: fromMinute, through: 59)
            while let m = nextMinute {
                let fromSecond = (h == hour && m == minute) ? second : 0
                if let s = seconds.first(from: fromSecond, through: 59) { return h * 3600 + m * 60 + s }
                nextMinute = minutes.first(from: m + 1, through: 59)
            }
            nextHour = hours.first(from: h + 1, through: 23)
        }
        return nil
    }
}

/// A time zone's offsets from UTC, read from Foundation's `TimeZone` (the system's tz database on Linux).
struct ZoneOffsets {
    let zone: TimeZone

    init(_ zone: TimeZone) { self.zone = zone }

    /// The offset (seconds east of UTC) in effect at an instant (seconds since 1970).
    func offset(at instant: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
    }

    /// The smallest and largest offsets within a day either side of an instant.
    func offsetRange(around instant: Int64) -> (Int, Int) {
        let samples = [offset(at: instant - 86_400), offset(at: instant), offset(at: instant + 86_400)]
        return (samples.min()!, samples.max()!)
    }

    /// The instants (seconds since 1970, ascending) at which the wall clock shows `wall`: one normally; none turned
    /// into one (shifted past the change) in a skipped stretch; the first of two in a repeated stretch, or both
    /// when `bothPasses`.
    func instants(ofWallTime wall: Int64, bothPasses: Bool) -> [Int64] {
        let offsets = Set([offset(at: wall - 86_400), offset(at: wall), offset(at: wall + 86_400)])
        let valid = offsets.map { wall - Int64($0) }.filter { offset(at: $0) == Int(wall - $0) }.sorted()
        if valid.isEmpty {
            // Skipped by a change that moved the clock forward: read the wall time with the offset before the
            // change (the smaller one), which lands as far after the change as the time was after its start.
            return [wall - Int64(offsets.min()!)]
        }
        return bothPasses ? valid : [valid[0]]
    }
}
