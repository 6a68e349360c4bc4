extension Queue {
    /// Creates the job scheduler `id`, or replaces its settings, and queues its next iteration (BullMQ's
    /// `upsertJobScheduler`, stored exactly as BullMQ stores it, so Node and Python workers run and advance it too).
    ///
    /// Each iteration is a job with id `repeat:<id>:<slot ms>` and field `rjk = <id>`, delayed until its slot. When a
    /// worker (Tributary's, or BullMQ's) takes an iteration, it queues the next one; so a scheduler fires only
    /// while some worker serves the queue, and a slow queue skips slots rather than piling them up. Upserting again
    /// replaces a pending iteration; an `every` scheduler whose interval did not change keeps its slot.
    ///
    /// ```swift
    /// try await queue.upsertJobScheduler("nightly", repeat: .cron("0 2 * * *", timeZone: "Europe/Berlin"),
    ///                                    template: .init(name: "report", data: ["kind": "daily"]))
    /// ```
    ///
    /// - Returns: the iteration queued, or `nil` when none is due any more (``RepeatOptions/endDate`` has passed, or
    ///   the pattern never fires again); nothing is stored then.
    /// - Throws: ``QueueError`` `invalidOption` for bad options (nothing is stored); `schedulerSlotTaken` when the
    ///   slot's job id is taken by a job that is not the scheduler's pending iteration (BullMQ's -10 and -11).
    @discardableResult
    public func upsertJobScheduler(_ id: String, repeat options: RepeatOptions, template: JobTemplate = .init())
        async throws -> Job? {
        try Self.validateSchedulerId(id)
        try options.validate()
        try template.validate()
        let now = EpochClock.milliseconds()
        if let endDate = options.endDate, now > endDate { return nil }
        var slot: Int64?
        if let pattern = options.pattern {
            if options.immediately {
                slot = now
            } else {
                let cron = try CronExpression(pattern)
                let zone = RepeatOptions.zone(named: options.timeZone) ?? .gmt
                guard let next = cron.next(after: max(now, options.startDate ?? 0), in: zone) else { return nil }
                slot = max(next, now)
            }
        }
        let name = template.name ?? id
        var fields: JSONObject = ["name": .string(name)]
        if let timeZone = options.timeZone { fields["tz"] = .string(timeZone) }
        if let pattern = options.pattern { fields["pattern"] = .string(pattern) }
        if let every = options.everyMilliseconds { fields["every"] = .int(every) }
        if let limit = options.limit { fields["limit"] = .int(Int64(limit)) }
        if let every = options.everyMilliseconds, every > 0, let offset = options.offset, offset > 0 {
            fields["offset"] = .int(offset)
        }
        if let startDate = options.startDate { fields["startDate"] = .int(startDate) }
        if let endDate = options.endDate { fields["endDate"] = .int(endDate) }
        let templateOptions = template.storedOptions
        var repeatJSON: JSONObject = [:]
        for key in ["pattern", "every", "tz", "limit", "startDate", "endDate", "offset"] {
            if let value = fields[key] { repeatJSON[key] = value }
        }
        let jobOptions = Self.iterationOptions(base: templateOptions, repeat: repeatJSON, count: 1, schedulerId: id,
                                               now: now, slot: slot ?? now)
        let script = QueueScripts.upsertJobScheduler
        let reply = try await client.run(script.script, keys: script.keys(for: keys), arguments: [
            .string(keys.jobKeyPrefix), .string(id), .integer(now), .string(slot.map(String.init) ?? ""),
            .string(JSONValue.object(fields).serialized()), .string(template.data.serialized()),
            .string(JSONValue.object(templateOptions).serialized()), .string(JSONValue.object(jobOptions).serialized()),
        ])
        if let code = reply.int {
            let what = code == -10 ? "the job id of its next slot is taken by another job"
                : "the job ids of its next 32 slots are taken by other jobs"
            throw QueueError(.schedulerSlotTaken, "job scheduler '\(id)': \(what) (BullMQ code \(code))")
        }
        guard let parts = reply.array, parts.count == 2, let jobId = parts[0].string else {
            throw QueueError(.unexpectedScriptResult, "upsertJobScheduler returned \(reply)")
        }
        logger.debug("job scheduler upserted", metadata: ["scheduler": .string(id), "job": .string(jobId)])
        return try await getJob(jobId)
    }

    /// The job scheduler `id`, or `nil` when there is none.
    public func getJobScheduler(_ id: String) async throws -> JobScheduler? {
        let replies = try await client.pipeline([
            RedisCommand("ZSCORE", .string(keys.key(.jobSchedulers)), .string(id)),
            RedisCommand("HGETALL", .string(keys.jobScheduler(id))),
        ])
        guard let score = replies[0].string else { return nil }
        return JobScheduler(id: id, fields: Self.hashFields(replies[1]), next: Self.slot(score))
    }

    /// The job schedulers ranked `start…end` by next slot (BullMQ's `getJobSchedulers`): latest first unless
    /// `ascending`; `end` -1 is the last.
    public func getJobSchedulers(start: Int = 0, end: Int = -1, ascending: Bool = false) async throws -> [JobScheduler] {
        let command = ascending ? "ZRANGE" : "ZREVRANGE"
        let reply = try await client.send(RedisCommand(
            command, .string(keys.key(.jobSchedulers)), .integer(Int64(start)), .integer(Int64(end)), "WITHSCORES"))
        let flat = reply.array ?? []
        var members: [(id: String, next: Int64?)] = []
        var index = 0
        while index + 1 < flat.count {
            if let id = flat[index].string { members.append((id, flat[index + 1].string.flatMap(Self.slot))) }
            index += 2
        }
        guard !members.isEmpty else { return [] }
        let hashes = try await client.pipeline(members.map { RedisCommand("HGETALL", .string(keys.jobScheduler($0.id))) })
        return zip(members, hashes).map { member, hash in
            JobScheduler(id: member.id, fields: Self.hashFields(hash), next: member.next)
        }
    }

    /// How many job schedulers the queue has.
    public func getJobSchedulersCount() async throws -> Int {
        Int(try await client.send(RedisCommand("ZCARD", .string(keys.key(.jobSchedulers)))).int ?? 0)
    }

    /// Removes the job scheduler `id` and its pending iteration if that is still delayed (an iteration already
    /// waiting or running finishes; its worker then finds no scheduler and queues nothing more).
    ///
    /// - Returns: whether there was such a scheduler.
    @discardableResult
    public func removeJobScheduler(_ id: String) async throws -> Bool {
        let script = QueueScripts.removeJobScheduler
        let reply = try await client.run(script.script, keys: script.keys(for: keys),
                                         arguments: [.string(keys.jobKeyPrefix), .string(id)])
        return reply.int == 0
    }

    // MARK: Helpers

    /// The options of an iteration job, as BullMQ's `getNextJobOpts` builds them: the template's options plus
    /// `repeat` (the scheduler's settings and the iteration `count`), `timestamp`, `prevMillis` (the slot) and
    /// `repeatJobKey`. The script adds `jobId` and `delay`.
    static func iterationOptions(base: JSONObject, repeat repeatFields: JSONObject, count: Int, schedulerId: String, now: Int64,
                                 slot: Int64) -> JSONObject {
        var options = base
        var repeatJSON = repeatFields
        repeatJSON["count"] = .int(Int64(count))
        options["repeat"] = .object(repeatJSON)
        options["timestamp"] = .int(now)
        options["prevMillis"] = .int(slot)
        options["repeatJobKey"] = .string(schedulerId)
        return options
    }

    static func validateSchedulerId(_ id: String) throws {
        guard !id.isEmpty, !id.contains(":") else {
            throw QueueError(.invalidOption, "job scheduler id '\(id)' must be non-empty and must not contain ':'")
        }
    }

    /// A slot read from a sorted-set score ("1796083992000", or a float form).
    static func slot(_ score: String) -> Int64? {
        Int64(score) ?? Double(score).map { Int64($0) }
    }

    static func hashFields(_ reply: RESPValue) -> [String: String] {
        let flat = reply.array ?? []
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let field = flat[index].string, let value = flat[index + 1].string { fields[field] = value }
            index += 2
        }
        return fields
    }
}
