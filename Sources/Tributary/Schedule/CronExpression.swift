/// A cron pattern, as BullMQ's job schedulers take it (`repeat.pattern`): five fields
/// (`minute hour day-of-month month day-of-week`) or six, with seconds first.
///
/// Each field takes `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from `a` to the field's end), and
/// lists of those separated by commas. Months take `JAN`–`DEC` and days of the week `SUN`–`SAT` (any case); day of
/// week 7 is Sunday, like 0. Day of month takes `L` (the month's last day), and `?` means `*` in both day fields.
/// `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly` stand for their usual patterns.
///
/// Days follow the rule of cron (and of cron-parser, which BullMQ uses): when both day of month and day of week are
/// restricted, a day matches when **either** does (`0 0 1,15 * FRI` fires on the 1st, the 15th and every Friday);
/// when one of them covers its whole range (`*`, `1-31`, `0-7`), only the other one counts.
///
/// ```swift
/// let nightly = try CronExpression("0 2 * * *")
/// let next = nightly.next(after: EpochClock.milliseconds(), in: TimeZone(identifier: "Europe/Berlin")!)
/// ```
///
/// ``next(after:in:)`` explains how times that a daylight-saving change skips or repeats are handled.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as given.
    public let source: String
    let seconds: CronField
    let minutes: CronField
    let hours: CronField
    /// Bits 1…31.
    let daysOfMonth: CronField
    /// Bits 1…12.
    let months: CronField
    /// Bits 0…6 (Sunday = 0).
    let daysOfWeek: CronField
    /// `L` in the day-of-month field.
    let lastDayOfMonth: Bool
    /// Day of month does not cover 1…31 (or has `L`): it restricts the days.
    let dayOfMonthRestricted: Bool
    /// Day of week does not cover 0…7: it restricts the days.
    let dayOfWeekRestricted: Bool

    public var description: String { source }

    /// Whether every hour matches: such a pattern fires in both passes of an hour that a daylight-saving change
    /// repeats (it runs on elapsed time), while a pattern naming hours fires in the first pass only.
    var everyHour: Bool { hours.bits == CronField.full(0...23).bits }

    private static let shorthands: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// Parses a pattern.
    ///
    /// - Throws: ``CronError`` naming the field and the part of it that is wrong, e.g.
    ///   `cron pattern '0 25 * * *': hour: 25 is out of range 0-23`.
    public init(_ pattern: String) throws(CronError) {
        self.source = pattern
        let trimmed = pattern.trimmingSpaces()
        let expanded = Self.shorthands[trimmed.lowercased()] ?? trimmed
        let parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 || parts.count == 6 else {
            throw CronError(pattern, "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds "
                + "first), found \(parts.count)")
        }
        let fields = parts.count == 6 ? parts : ["0"] + parts
        func parse(_ index: Int, _ name: String, _ range: ClosedRange<Int>, names: [String] = [],
                   nameBase: Int = 0, allowL: Bool = false, question: Bool = false) throws(CronError) -> CronField.Parsed {
            do {
                return try CronField.parse(fields[index], range: range, names: names, nameBase: nameBase,
                                           allowLast: allowL, allowQuestion: question)
            } catch {
                throw CronError(pattern, "\(name): \(error.message)")
            }
        }
        self.seconds = try parse(0, "second", 0...59).field
        self.minutes = try parse(1, "minute", 0...59).field
        self.hours = try parse(2, "hour", 0...23).field
        let dayOfMonth = try parse(3, "day of month", 1...31, allowL: true, question: true)
        self.months = try parse(4, "month", 1...12, names: Self.monthNames, nameBase: 1).field
        let dayOfWeek = try parse(5, "day of week", 0...7, names: Self.dayNames, question: true)
        self.daysOfMonth = dayOfMonth.field
        self.lastDayOfMonth = dayOfMonth.last
        self.dayOfMonthRestricted = dayOfMonth.last || dayOfMonth.field.bits != CronField.full(1...31).bits
        self.dayOfWeekRestricted = dayOfWeek.field.bits != CronField.full(0...7).bits
        // 7 is Sunday too.
        var weekBits = dayOfWeek.field.bits & 0x7f
        if dayOfWeek.field.bits & (1 << 7) != 0 { weekBits |= 1 }
        self.daysOfWeek = CronField(bits: weekBits)
        if !dayOfMonth.last, !dayOfWeekRestricted, !months.matchesAnyDay(daysOfMonth) {
            throw CronError(pattern, "day of month: no month of the pattern has such a day")
        }
    }

    /// Whether the pattern matches this calendar day (the day rule above).
    func matchesDay(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        var byMonthDay = daysOfMonth.contains(day)
        if lastDayOfMonth && day == CivilDate.daysIn(month: month, year: year) { byMonthDay = true }
        let byWeekDay = daysOfWeek.contains(weekday)
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return byMonthDay || byWeekDay
        case (true, false): return byMonthDay
        case (false, true): return byWeekDay
        case (false, false): return true
        }
    }
}

/// A cron pattern that cannot be parsed, or a time zone that is not known.
public struct CronError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The pattern (or time zone name) as given.
    public let pattern: String
    /// What is wrong, naming the field.
    public let message: String

    init(_ pattern: String, _ message: String) {
        self.pattern = pattern
        self.message = message
    }

    public var description: String { "cron pattern '\(pattern)': \(message)" }
}

/// The values one cron field allows, as bits.
struct CronField: Sendable, Hashable {
    var bits: UInt64

    static func full(_ range: ClosedRange<Int>) -> CronField {
        var field = CronField(bits: 0)
        for value in range { field.bits |= 1 << UInt64(value) }
        return field
    }

    func contains(_ value: Int) -> Bool { value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0 }

    /// The smallest allowed value ≥ `value` and ≤ `limit`.
    func first(from value: Int, through limit: Int) -> Int? {
        guard value <= limit, value < 64 else { return nil }
        let masked = bits >> UInt64(max(value, 0))
        guard masked != 0 else { return nil }
        let found = max(value, 0) + masked.trailingZeroBitCount
        return found <= limit ? found : nil
    }

    /// For the month field: whether some allowed month has one of these days (so `0 0 30 2 *` is refused).
    func matchesAnyDay(_ days: CronField) -> Bool {
        (1...12).contains { month in contains(month) && days.first(from: 1, through: CivilDate.daysIn(month: month, year: 2000)) != nil }
    }

    struct Parsed {
        var field: CronField
        var last: Bool
    }

    struct Problem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func parse(_ text: String, range: ClosedRange<Int>, names: [String], nameBase: Int, allowLast: Bool,
                      allowQuestion: Bool) throws(Problem) -> Parsed {
        var result = Parsed(field: CronField(bits: 0), last: false)
        guard !text.isEmpty else { throw Problem("empty") }
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw Problem("'\(text)' has an empty list item") }
            if allowLast && (item == "L" || item == "l") {
                result.last = true
                continue
            }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw Problem("'\(item)' has more than one '/'") }
            var step = 1
            if stepParts.count == 2 {
                guard let value = Int(stepParts[1]), value >= 1 else {
                    throw Problem("step '\(stepParts[1])' in '\(item)' must be a whole number of at least 1")
                }
                step = value
            }
            let base = stepParts[0]
            var low: Int, high: Int
            if base == "*" || (allowQuestion && base == "?") {
                (low, high) = (range.lowerBound, range.upperBound)
            } else {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw Problem("'\(item)' is not a value or a range a-b") }
                low = try value(bounds[0], range: range, names: names, nameBase: nameBase)
                if bounds.count == 2 {
                    high = try value(bounds[1], range: range, names: names, nameBase: nameBase)
                    guard low <= high else { throw Problem("range '\(base)' goes backwards") }
                } else {
                    // `a/n` runs from a to the end of the field, as in cron-parser and croniter.
                    high = stepParts.count == 2 ? range.upperBound : low
                }
            }
            var current = low
            while current <= high {
                result.field.bits |= 1 << UInt64(current)
                current += step
            }
        }
        return result
    }

    private static func value(_ text: Substring, range: ClosedRange<Int>, names: [String], nameBase: Int) throws(Problem) -> Int {
        if let number = Int(text), text.allSatisfy(\.isASCIIDigit) {
            guard range.contains(number) else {
                throw Problem("\(number) is out of range \(range.lowerBound)-\(range.upperBound)")
            }
            return number
        }
        if let index = names.firstIndex(of: text.lowercased()) { return index + nameBase }
        if names.isEmpty { throw Problem("'\(text)' is not a number") }
        throw Problem("'\(text)' is not a number or one of \(names.map { $0.uppercased() }.joined(separator: ", "))")
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
