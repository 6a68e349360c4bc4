/// What a job scheduler creates on each firing: the job's name, data and options.
public struct JobTemplate: Sendable, Hashable {
    /// The name of each job; the scheduler's id when `nil` (as in BullMQ).
    public var name: String?
    /// The data of each job.
    public var data: JSONValue
    /// The options of each job. `jobId`, `delay` and `timestamp` are the scheduler's to set and must stay unset.
    public var options: JobOptions

    /// Creates a template.
    public init(name: String? = nil, data: JSONValue = .object([:]), options: JobOptions = .init()) {
        self.name = name
        self.data = data
        self.options = options
    }

    /// The options as stored in the scheduler's `opts` field: what the caller set, without defaults.
    var storedOptions: JSONObject {
        var object = options.storedJSON.objectValue ?? [:]
        _ = object.removeValue(forKey: "delay")
        if options.attempts == 0 { _ = object.removeValue(forKey: "attempts") }
        return object
    }

    func validate() throws {
        try options.validate()
        if options.jobId != nil || options.delay != .zero || options.timestamp != nil {
            throw QueueError(.invalidOption, "template: jobId, delay and timestamp are set by the scheduler; leave them out")
        }
        if options.onFailure != .keepWaiting {
            throw QueueError(.invalidOption, "template: a failure policy needs a parent, and scheduled jobs have none")
        }
    }
}

/// A job scheduler as stored in Redis (by Tributary, or by BullMQ in Node or Python), read with
/// ``Queue/getJobScheduler(_:)`` or ``Queue/getJobSchedulers(start:end:ascending:)``. The fields follow BullMQ's
/// `getJobSchedulers`.
public struct JobScheduler: Sendable, Hashable {
    /// The scheduler's id (BullMQ calls it `key`).
    public let id: String
    /// The name of the jobs it creates.
    public let name: String?
    /// Its next slot (ms since 1970): when its pending iteration is due.
    public let next: Int64?
    /// How many iterations it has created (`ic`).
    public let iterationCount: Int?
    /// The cron pattern, for a pattern scheduler.
    public let pattern: String?
    /// The interval in ms, for an every scheduler.
    public let every: Int64?
    /// The time zone of the pattern (`tz`).
    public let timeZone: String?
    /// The most iterations it creates.
    public let limit: Int?
    /// No iteration before this time (ms since 1970).
    public let startDate: Int64?
    /// No iteration after this time (ms since 1970).
    public let endDate: Int64?
    /// Where in the interval an every scheduler's slots fall (ms).
    public let offset: Int64?
    /// The data of the jobs it creates (`data`).
    public let templateData: JSONValue?
    /// The options of the jobs it creates (`opts`, as stored).
    public let templateOptions: JSONValue?
    /// Every field of the scheduler's hash as stored, including ones Tributary does not read (a flow schedule's
    /// plan, for instance).
    public let fields: [String: String]

    /// Reads a scheduler from its hash fields and its score in the `repeat` set.
    init(id: String, fields: [String: String], next: Int64?) {
        self.id = id
        self.fields = fields
        self.next = next
        name = fields["name"]
        iterationCount = fields["ic"].flatMap { Int($0) }
        pattern = fields["pattern"].flatMap { $0.isEmpty ? nil : $0 }
        every = fields["every"].flatMap { Int64($0) }
        timeZone = fields["tz"].flatMap { $0.isEmpty ? nil : $0 }
        limit = fields["limit"].flatMap { Int($0) }
        startDate = fields["startDate"].flatMap { Int64($0) }
        endDate = fields["endDate"].flatMap { Int64($0) }
        offset = fields["offset"].flatMap { Int64($0) }
        templateData = fields["data"].map { (try? JSONValue.parse($0)) ?? .string($0) }
        templateOptions = fields["opts"].map { (try? JSONValue.parse($0)) ?? .string($0) }
    }

    /// The scheduler as BullMQ's `getJobSchedulers` returns it (`key`, `name`, `next`, `iterationCount`, …), for
    /// JSON output.
    public var json: JSONValue {
        var object: JSONObject = ["key": .string(id)]
        object["name"] = name.map(JSONValue.string) ?? .null
        object["next"] = next.map(JSONValue.int) ?? .null
        if let iterationCount { object["iterationCount"] = .int(Int64(iterationCount)) }
        if let limit { object["limit"] = .int(Int64(limit)) }
        if let startDate { object["startDate"] = .int(startDate) }
        if let endDate { object["endDate"] = .int(endDate) }
        if let timeZone { object["tz"] = .string(timeZone) }
        if let pattern { object["pattern"] = .string(pattern) }
        if let every { object["every"] = .int(every) }
        if let offset { object["offset"] = .int(offset) }
        if templateData != nil || templateOptions != nil {
            var template: JSONObject = [:]
            if let templateData { template["data"] = templateData }
            if let templateOptions { template["opts"] = templateOptions }
            object["template"] = .object(template)
        }
        return .object(object)
    }
}
