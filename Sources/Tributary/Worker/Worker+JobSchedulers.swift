import Logging

extension Worker {
    /// Queues the next iteration of the job scheduler that created `job` (a job with an `rjk` field), as BullMQ's
    /// workers do when they take such a job: from the iteration count, limit and end date in the job's
    /// `opts.repeat`, the next slot of its pattern (computed here) or interval (computed by the script), only if
    /// `job` is the scheduler's current iteration. A failure is reported and retried a few times; the job itself
    /// runs either way.
    func queueNextIteration(of job: Job, schedulerId: String) async {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await Self.advanceScheduler(queue: queue, job: job, schedulerId: schedulerId)
                return
            } catch {
                if attempt >= 3 || isClosing {
                    report(error, "queueing the next iteration of job scheduler '\(schedulerId)' (job \(job.id))")
                    return
                }
                try? await Task.sleep(for: .milliseconds(500 * attempt))
            }
        }
    }

    /// One try of ``queueNextIteration(of:schedulerId:)``. Returns the next iteration's job id, or `nil` when none
    /// was queued (limit or end date reached, scheduler gone, `job` not its current iteration, slot taken).
    @discardableResult
    static func advanceScheduler(queue: Queue, job: Job, schedulerId: String) async throws -> String? {
        let options = job.fields["opts"].flatMap { try? JSONValue.parse($0) }?.objectValue ?? [:]
        var repeatJSON = options["repeat"]?.objectValue ?? [:]
        let count = Int(repeatJSON["count"]?.intValue ?? 0) + 1
        if let limit = repeatJSON["limit"]?.intValue, count > limit { return nil }
        let clock = EpochClock.milliseconds()
        var now = clock
        if let endDate = repeatJSON["endDate"].flatMap(Self.milliseconds), now > endDate { return nil }
        if let previous = options["prevMillis"]?.intValue, previous > now { now = previous }
        let every = repeatJSON["every"]?.intValue
        var slot: Int64?
        if let pattern = repeatJSON["pattern"]?.stringValue {
            let cron = try CronExpression(pattern)
            let zoneName = repeatJSON["tz"]?.stringValue
            guard let zone = RepeatOptions.zone(named: zoneName) else {
                throw QueueError(.invalidOption, "job scheduler '\(schedulerId)': unknown time zone '\(zoneName ?? "")'")
            }
            let start = repeatJSON["startDate"].flatMap(Self.milliseconds) ?? 0
            guard let next = cron.next(after: max(now, start), in: zone) else { return nil }
            slot = max(next, now)
        } else if every == nil {
            return nil
        }
        if let startDate = repeatJSON["startDate"].flatMap(Self.milliseconds) { repeatJSON["startDate"] = .int(startDate) }
        if let endDate = repeatJSON["endDate"].flatMap(Self.milliseconds) { repeatJSON["endDate"] = .int(endDate) }
        let next = Queue.iterationOptions(base: options, repeat: repeatJSON, count: count, schedulerId: schedulerId,
                                          now: now, slot: slot ?? now)
        let script = QueueScripts.updateJobScheduler
        let reply = try await queue.client.run(script.script, keys: script.keys(for: queue.keys), arguments: [
            .string(queue.keys.jobKeyPrefix), .string(schedulerId), .integer(clock),
            .string(slot.map(String.init) ?? ""), .string(job.id), .string(JSONValue.object(next).serialized()),
        ])
        guard case .bulkString = reply else { return nil }
        return reply.string
    }

    /// A date in a scheduler's options: ms since 1970, or an ISO 8601 text (as BullMQ accepts).
    static func milliseconds(_ value: JSONValue) -> Int64? {
        if let number = value.intValue { return number }
        if let number = value.doubleValue { return Int64(number) }
        guard let text = value.stringValue else { return nil }
        return Int64(text) ?? ISODate.milliseconds(text)
    }
}
