import Foundation

/// When a job scheduler fires (BullMQ's `RepeatOptions`): on a cron ``pattern`` or ``every`` fixed interval, with
/// optional bounds.
///
/// ```swift
/// try await queue.upsertJobScheduler("nightly-report", repeat: .cron("0 2 * * *", timeZone: "Europe/Berlin"),
///                                    template: .init(name: "report", data: ["kind": "daily"]))
/// try await queue.upsertJobScheduler("heartbeat", repeat: .every(.seconds(15)))
/// ```
public struct RepeatOptions: Sendable, Hashable {
    /// A cron pattern, 5 fields or 6 with seconds first (see ``CronExpression``). Exactly one of `pattern` and
    /// ``every`` is set.
    public var pattern: String?
    /// A fixed interval; slots fall on multiples of it plus ``offset`` (ms since 1970), so every worker and every
    /// client computes the same slots. Whole milliseconds, at least 1 ms.
    public var every: Duration?
    /// The IANA time zone the pattern is read in (`Europe/Berlin`), from the system's tz database; UTC when `nil`.
    public var timeZone: String?
    /// The most iterations the scheduler creates; `nil` for no limit.
    public var limit: Int?
    /// No iteration before this time (ms since 1970).
    public var startDate: Int64?
    /// No iteration is created once this time (ms since 1970) has passed.
    public var endDate: Int64?
    /// A pattern scheduler's first iteration runs now instead of at the pattern's next time. Not with
    /// ``startDate``. (An `every` scheduler's first iteration runs now anyway, unless an offset or a start date
    /// puts it later.)
    public var immediately: Bool
    /// For `every`: where in the interval slots fall, in ms (`every: 1 h, offset: 15 min` fires at :15 each hour).
    /// Without one, the first slot decides it.
    public var offset: Int64?

    /// Creates options; see ``cron(_:timeZone:)`` and ``every(_:)`` for the usual cases.
    public init(pattern: String? = nil, every: Duration? = nil, timeZone: String? = nil, limit: Int? = nil,
                startDate: Int64? = nil, endDate: Int64? = nil, immediately: Bool = false, offset: Int64? = nil) {
        self.pattern = pattern
        self.every = every
        self.timeZone = timeZone
        self.limit = limit
        self.startDate = startDate
        self.endDate = endDate
        self.immediately = immediately
        self.offset = offset
    }

    /// Fires on a cron pattern, read in `timeZone` (UTC when `nil`).
    public static func cron(_ pattern: String, timeZone: String? = nil) -> RepeatOptions {
        RepeatOptions(pattern: pattern, timeZone: timeZone)
    }

    /// Fires every `interval`.
    public static func every(_ interval: Duration) -> RepeatOptions {
        RepeatOptions(every: interval)
    }

    /// The interval in ms.
    var everyMilliseconds: Int64? { every?.milliseconds }

    /// Checks the options as BullMQ's `upsertJobScheduler` does, plus the pattern and time zone themselves.
    ///
    /// - Throws: ``QueueError`` `invalidOption` with a message naming the option.
    public func validate() throws {
        func invalid(_ message: String) -> QueueError { QueueError(.invalidOption, message) }
        switch (pattern, every) {
        case (.some, .some): throw invalid("repeat: give either pattern or every, not both")
        case (nil, nil): throw invalid("repeat: give a pattern (cron) or every (an interval)")
        default: break
        }
        if immediately && startDate != nil { throw invalid("repeat: immediately and startDate cannot both be given") }
        if let every, every < .milliseconds(1) || every.milliseconds * 1_000_000 != every.nanoseconds {
            throw invalid("repeat.every must be a whole number of milliseconds, at least 1 ms (got \(every))")
        }
        if let pattern {
            do { _ = try CronExpression(pattern) } catch { throw invalid("repeat.pattern: \(error)") }
        }
        if let timeZone, Self.zone(named: timeZone) == nil {
            throw invalid("repeat.tz '\(timeZone)' is not a time zone of the system's tz database (e.g. Europe/Berlin)")
        }
        if let limit, limit < 1 { throw invalid("repeat.limit must be at least 1 (got \(limit))") }
        if let offset, offset < 0 { throw invalid("repeat.offset must not be negative (got \(offset))") }
        if let startDate, let endDate, endDate < startDate {
            throw invalid("repeat.endDate (\(endDate)) is before repeat.startDate (\(startDate))")
        }
    }

    /// The time zone a pattern is read in: the named one, or UTC.
    static func zone(named name: String?) -> TimeZone? {
        guard let name else { return .gmt }
        return TimeZone(identifier: name)
    }
}

extension Duration {
    /// The whole nanoseconds of a duration (for checking whole milliseconds).
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
