extension FlowProducer {
    /// Schedules a flow: at each slot of `repeat`, one run of the flow is submitted, with id
    /// ``FlowSchedule/runId(schedule:slot:)`` (`nightly@20261201T010000Z`), by whichever Tributary worker serves
    /// `queue` at the time. The flow's definition is checked now and stored with the schedule in Redis, so no file
    /// is needed at firing time.
    ///
    /// The schedule is a BullMQ job scheduler with id `name` on `queue` (the queue of the flow's first node unless
    /// given): ``Queue/getJobSchedulers(start:end:ascending:)`` lists it and ``Queue/removeJobScheduler(_:)``
    /// removes it. Its jobs are named `flow:<flow name>` and carry the definition in their data; only Tributary
    /// workers submit runs from them, so serve that queue with Tributary workers. Upserting the same name again
    /// replaces the definition and the timing.
    ///
    /// ```swift
    /// let definition = try JSONValue.parse(text)
    /// try await producer.scheduleFlow("nightly", definition: definition, repeat: .cron("0 2 * * *", timeZone: "Europe/Berlin"))
    /// ```
    ///
    /// - Parameters:
    ///   - name: the schedule's id (non-empty, without ':' or '@'); it prefixes the run ids.
    ///   - definition: a flow file's JSON (either format); its `"schedule"` key, if any, is ignored here.
    ///   - options: when the flow runs (``RepeatOptions``: a cron pattern with a time zone, or an interval).
    ///   - queue: the queue that holds the schedule; the queue of the flow's first node when `nil`.
    /// - Returns: the queue the schedule lives on.
    /// - Throws: ``FlowFileError`` when the flow has problems; ``QueueError`` for bad timing options.
    @discardableResult
    public func scheduleFlow(_ name: String, definition: JSONValue, repeat options: RepeatOptions,
                             queue: String? = nil) async throws -> String {
        guard !name.isEmpty, !name.contains(":"), !name.contains("@") else {
            throw QueueError(.invalidOption, "schedule name '\(name)' must be non-empty, without ':' or '@'")
        }
        var stored = definition
        if case .object(var object) = definition {
            _ = object.removeValue(forKey: "schedule")
            stored = .object(object)
        }
        let plan = try FlowCompiler.compile(stored, source: "schedule '\(name)'")
        if let wanted = plan.prefix, wanted != prefix {
            throw QueueError(.invalidQueueName, "flow '\(plan.flow)' asks for prefix '\(wanted)' but this producer uses '\(prefix)'")
        }
        let queueName = queue ?? plan.nodes[0].queue
        let target = try Queue(queueName, client: client, prefix: prefix)
        let data: JSONValue = [FlowSchedule.dataKey: ["flow": .string(plan.flow), "definition": stored]]
        try await target.upsertJobScheduler(name, repeat: options, template: JobTemplate(name: "flow:\(plan.flow)", data: data))
        return queueName
    }

    /// The flow a scheduler's stored data describes, if it is a flow schedule: its name and definition.
    public static func scheduledFlow(in scheduler: JobScheduler) -> (flow: String, definition: JSONValue)? {
        guard let entry = scheduler.templateData?[FlowSchedule.dataKey], let flow = entry["flow"]?.stringValue,
              let definition = entry["definition"] else { return nil }
        return (flow, definition)
    }
}

/// What a Tributary worker does with a flow schedule's firing (a job scheduler iteration whose data has
/// `flowSchedule`): compiles the stored definition and submits it as the slot's run. The job's return value is
/// `{"run": <run id>, "created": <false when the run existed already>}`.
enum FlowScheduleRunner {
    static func isFiring(_ job: Job) -> Bool {
        job.fields["rjk"] != nil && job.data[FlowSchedule.dataKey]?["definition"] != nil
    }

    static func run(_ job: Job, client: RedisClient, cipher: FieldCipher? = nil) async throws -> JSONValue {
        guard let schedule = job.fields["rjk"], let definition = job.data[FlowSchedule.dataKey]?["definition"] else {
            throw UnrecoverableError("job \(job.id) is not a flow schedule's firing")
        }
        // The slot is the last part of the iteration id repeat:<schedule>:<slot>; else the job's own timestamp.
        let slot = job.id.split(separator: ":").last.flatMap { Int64($0) } ?? job.timestamp
        let plan: FlowPlan
        do {
            plan = try FlowCompiler.compile(definition, source: "schedule '\(schedule)'")
        } catch {
            throw UnrecoverableError("the flow stored with schedule '\(schedule)' does not compile: \(error)")
        }
        let producer = FlowProducer(client: client, prefix: job.queue.prefix, cipher: cipher)
        let receipt = try await producer.submit(plan, runId: FlowSchedule.runId(schedule: schedule, slot: slot),
                                                schedule: schedule)
        return ["run": .string(receipt.runId), "created": .bool(receipt.created)]
    }
}
