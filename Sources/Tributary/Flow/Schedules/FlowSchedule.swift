/// A flow's schedule: a flow file's `"schedule"` object (`{"cron": "0 2 * * *", "tz": "Europe/Berlin"}` or
/// `{"every": "15m"}`, with optional `limit`, `start` and `end`), read into ``RepeatOptions``.
///
/// A scheduled flow is a BullMQ job scheduler on one of the flow's queues whose jobs carry the flow's definition;
/// a Tributary worker that takes one submits the flow as a run whose id is derived from the schedule and the slot
/// (``runId(schedule:slot:)``), so a slot fires at most one run however many workers race for it. See
/// ``FlowProducer/scheduleFlow(_:definition:repeat:queue:)``.
public enum FlowSchedule {
    /// The keys of a `"schedule"` object.
    static let keys = ["cron", "tz", "every", "limit", "start", "end"]

    /// The field of an iteration job's data that marks it as a flow schedule's firing.
    static let dataKey = "flowSchedule"

    /// Reads a `"schedule"` value.
    ///
    /// - Throws: ``QueueError`` `invalidOption` naming the key that is wrong.
    public static func repeatOptions(from value: JSONValue) throws -> RepeatOptions {
        func invalid(_ message: String) -> QueueError { QueueError(.invalidOption, "schedule: \(message)") }
        guard let object = value.objectValue else {
            throw invalid("must be an object such as {\"cron\": \"0 2 * * *\"} or {\"every\": \"15m\"}")
        }
        for key in object.keys where !keys.contains(key) {
            throw invalid("unknown key '\(key)' (known: \(keys.joined(separator: ", ")))")
        }
        var options = RepeatOptions()
        if let cron = object["cron"] {
            guard let text = cron.stringValue else { throw invalid("'cron' must be a string such as \"0 2 * * *\"") }
            options.pattern = text
        }
        if let zone = object["tz"] {
            guard let text = zone.stringValue else { throw invalid("'tz' must be a string such as \"Europe/Berlin\"") }
            options.timeZone = text
        }
        if let every = object["every"] {
            if let text = every.stringValue {
                guard let duration = parseDuration(text) else {
                    throw invalid("'every' must be a duration such as \"15m\", \"30s\", \"2h\" or \"500ms\", got \"\(text)\"")
                }
                options.every = duration
            } else if let number = every.intValue {
                options.every = .milliseconds(number)
            } else {
                throw invalid("'every' must be a duration such as \"15m\" or a number of ms")
            }
        }
        if let limit = object["limit"] {
            guard let number = limit.intValue else { throw invalid("'limit' must be a whole number") }
            options.limit = Int(number)
        }
        for (key, keyPath) in [("start", \RepeatOptions.startDate), ("end", \RepeatOptions.endDate)] {
            guard let bound = object[key] else { continue }
            guard let millis = Worker.milliseconds(bound) else {
                throw invalid("'\(key)' must be an ISO 8601 time (2026-12-01T02:00:00Z) or ms since 1970")
            }
            options[keyPath: keyPath] = millis
        }
        if options.timeZone != nil && options.pattern == nil { throw invalid("'tz' goes with 'cron'") }
        do {
            try options.validate()
        } catch let error as QueueError {
            throw invalid(error.message)
        }
        return options
    }

    /// A duration such as `15m`, `30s`, `2h`, `1d` or `500ms` (a bare number is seconds).
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let trimmed = text.lowercased().filter { $0 != " " }
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Double(number), value > 0, value.isFinite {
                return .milliseconds(Int64((value * Double(factor)).rounded()))
            }
        }
        if let value = Double(trimmed), value > 0, value.isFinite { return .milliseconds(Int64((value * 1000).rounded())) }
        return nil
    }

    /// The run id of a schedule's firing at `slot` (ms since 1970): `<schedule>@<UTC time>`, e.g.
    /// `nightly@20261201T010000Z` (milliseconds added when the slot has any: `…T010000.250Z`). The same slot gives
    /// the same id, so a firing handled twice submits once.
    public static func runId(schedule: String, slot: Int64) -> String {
        let seconds = CivilDate.floorDiv(slot, 1000)
        let millis = slot - seconds * 1000
        let days = Int(CivilDate.floorDiv(seconds, 86_400))
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let date = CivilDate.date(days: days)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = "\(date.year)\(two(date.month))\(two(date.day))T\(two(secondOfDay / 3600))\(two(secondOfDay / 60 % 60))"
            + two(secondOfDay % 60)
        if millis != 0 { text += "." + String(String(1000 + millis).dropFirst()) }
        return "\(schedule)@\(text)Z"
    }
}
