import Logging

/// A job to add: its name, data and options.
public struct JobRequest: Sendable {
    /// The job's name, which workers route on (BullMQ's `name`).
    public var name: String
    /// The job's data, stored as JSON.
    public var data: JSONValue
    /// Attempts, backoff, delay, priority, job id, retention and the other BullMQ options.
    public var options: JobOptions

    /// Creates a request.
    public init(_ name: String, data: JSONValue = .null, options: JobOptions = .init()) {
        self.name = name
        self.data = data
        self.options = options
    }
}

/// A BullMQ-compatible queue: adds jobs and reads their state. Workers in Swift (``Worker``), Node or Python take
/// the jobs.
///
/// ```swift
/// let client = try await RedisClient.connect(url: "redis://127.0.0.1:6379")
/// let queue = try Queue("emails", client: client)
/// let job = try await queue.add("welcome", data: ["to": "ada@example.com"], options: .init(attempts: 3))
/// ```
public final class Queue: Sendable {
    /// The queue's name.
    public let name: String
    /// The queue's Redis keys.
    public let keys: QueueKeys
    /// The connection the queue uses (fail-fast is right for producers; see ``RedisConfiguration``).
    public let client: RedisClient
    /// The limits on what ``add(_:data:options:)`` and ``addBulk(_:)`` store (``DataLimits/default`` unless given).
    public let limits: DataLimits
    /// The keys that encrypt the fields a job's ``JobOptions/encrypt`` names; `nil` when none are configured (an
    /// add that asks for encryption then fails).
    public let cipher: FieldCipher?
    let logger: Logger

    /// Creates a queue handle; nothing is written until a job is added.
    ///
    /// - Throws: ``QueueError`` `invalidQueueName` when the name or prefix is empty, the name contains ':', or the
    ///   name is `__flows__`, under which flow run records are kept (a queue of that name would obliterate or
    ///   clean them).
    ///
    /// - Parameters:
    ///   - name: the queue's name.
    ///   - client: the connection to use.
    ///   - prefix: the key prefix (BullMQ's default `bull`).
    ///   - limits: the limits on what adds store.
    ///   - cipher: the keys that encrypt the fields ``JobOptions/encrypt`` names (see ``FieldCipher``).
    ///   - logger: where the queue logs.
    public init(_ name: String, client: RedisClient, prefix: String = "bull", limits: DataLimits = .default,
                cipher: FieldCipher? = nil, logger: Logger = Logger(label: "tributary.queue")) throws {
        guard !name.isEmpty, !name.contains(":") else {
            throw QueueError(.invalidQueueName, "queue name '\(name)' must be non-empty and must not contain ':'")
        }
        guard name != FlowProducer.reservedQueueName else {
            throw QueueError(.invalidQueueName, "queue name '\(name)' is reserved for flow run records")
        }
        guard !prefix.isEmpty else { throw QueueError(.invalidQueueName, "the key prefix must not be empty") }
        self.name = name
        self.keys = QueueKeys(prefix: prefix, queueName: name)
        try ClusterSlots.checkQueue(keys, on: client)
        self.client = client
        self.limits = limits
        self.cipher = cipher
        var logger = logger
        logger[metadataKey: "queue"] = .string(name)
        self.logger = logger
    }

    // MARK: Adding

    /// Adds one job.
    ///
    /// - Returns: the stored job (for a custom ``JobOptions/jobId`` that already exists, the existing job is kept
    ///   and returned unchanged, as BullMQ does). When ``JobOptions/deduplication`` names an id another job holds,
    ///   nothing is stored and that job is returned, as read in the same step, with ``Job/addWasDeduplicated``
    ///   set.
    /// - Throws: ``QueueError`` `invalidOption` before anything is stored; a Redis error if the add failed.
    @discardableResult
    public func add(_ name: String, data: JSONValue = .null, options: JobOptions = .init()) async throws -> Job {
        try await addBulk([JobRequest(name, data: data, options: options)])[0]
    }

    /// Adds one job whose data is any `Encodable` value.
    @discardableResult
    public func add<Payload: Encodable>(_ name: String, payload: Payload, options: JobOptions = .init()) async throws -> Job {
        let data: JSONValue
        do {
            data = try JSONValueEncoder().encode(payload)
        } catch {
            throw QueueError(.invalidData, "the data of job '\(name)' cannot be encoded as JSON: \(error)")
        }
        return try await add(name, data: data, options: options)
    }

    /// Adds several jobs atomically (one MULTI/EXEC of `addJobs.lua` calls): all are stored or none is. A job
    /// whose deduplication id is held is returned as ``add(_:data:options:)`` returns it.
    ///
    /// - Throws: ``QueueError`` `invalidOption`, or `limitExceeded` when a job's data is over
    ///   ``DataLimits/jobDataBytes``, before anything is stored; ``FieldCipherError`` when fields to encrypt are
    ///   missing or the queue has no ``cipher`` (nothing stored).
    @discardableResult
    public func addBulk(_ requests: [JobRequest]) async throws -> [Job] {
        guard !requests.isEmpty else { return [] }
        var requests = requests
        for (index, request) in requests.enumerated() {
            let which = requests.count == 1 ? "job '\(request.name)'" : "job \(index) ('\(request.name)')"
            do {
                try request.options.validate()
            } catch let error as QueueError {
                throw QueueError(error.code, "\(which): \(error.message)")
            }
            requests[index] = try request.sealed(with: cipher, what: which)
        }
        let now = EpochClock.milliseconds()
        let timestamps = requests.map { $0.options.timestamp ?? now }
        var batch = JobBatch()
        let prepared = zip(requests, timestamps).map { request, timestamp in
            let add = Self.prepareAdd(request, keys: keys, timestamp: timestamp)
            batch.append(keys, addArguments: add.arguments)
            return add
        }
        for (index, add) in prepared.enumerated() {
            let which = requests.count == 1 ? "job '\(requests[index].name)'" : "job \(index) ('\(requests[index].name)')"
            try DataLimits.check(add.dataText.utf8.count, against: limits.jobDataBytes, "the data of \(which)",
                                 setting: "DataLimits.jobDataBytes, --max-job-data")
        }
        let replies = try await batch.store(on: client)
        // Jobs of a bulk mostly share their options: read them back once per distinct value.
        var lastOptions: (given: JobOptions, stored: JobOptions)?
        return try requests.indices.map { index in
            let (request, reply) = (requests[index], replies[index])
            if let owner = Job(deduplicatedAddReply: reply, queue: keys) { return owner }
            guard case .bulkString = reply, let id = reply.string else {
                if reply.int == -5 { throw QueueError(.parentNotFound, "the parent of job '\(request.name)' does not exist") }
                throw QueueError(.unexpectedScriptResult, "addJobs returned \(reply) for job '\(request.name)'")
            }
            let add = prepared[index]
            if lastOptions?.given != request.options {
                lastOptions = (request.options, JobOptions(stored: add.storedOptions))
            }
            return Job(added: request, id: id, queue: keys, timestamp: timestamps[index], prepared: add, options: lastOptions?.stored)
        }
    }

    /// The add arguments (addJobs.lua, one job) for one request.
    func addArguments(_ request: JobRequest, timestamp: Int64) -> [RedisArgument] {
        Self.addArguments(request, keys: keys, timestamp: timestamp)
    }

    /// Where the deduplication option sits in ``addArguments(_:keys:timestamp:jobId:parents:waitsForChildren:extraFields:guardKey:)``:
    /// the last of the job's 15 values.
    static let deduplicationArgumentIndex = 15

    /// The add arguments (addJobs.lua, one job: the job key prefix and its 15 values) for a job of the queue with
    /// these keys.
    ///
    /// - Parameters:
    ///   - parents: the job's dependents in a flow. One makes it a BullMQ flow child (`parentKey` and `parent`
    ///     fields, `parent` in its opts, the failure policy flag in both); several make it a shared DAG node
    ///     (Tributary's `parents` field).
    ///   - waitsForChildren: the job is a flow parent whose children are added after it in the same transaction.
    ///   - extraFields: Tributary's extra hash fields (flowRun, flowNode, flowInputs, command).
    ///   - guardKey: the key set by `checkFlow.lua`; without it the add does nothing.
    static func addArguments(_ request: JobRequest, keys: QueueKeys, timestamp: Int64, jobId: String? = nil,
                             parents: [(id: String, queue: QueueKeys)] = [], waitsForChildren: Bool = false,
                             extraFields: JSONObject = [:], guardKey: String = "") -> [RedisArgument] {
        prepareAdd(request, keys: keys, timestamp: timestamp, jobId: jobId, parents: parents,
                   waitsForChildren: waitsForChildren, extraFields: extraFields, guardKey: guardKey).arguments
    }

    /// One job ready to store: its add arguments, and the stored data and options (for the job snapshot
    /// returned to the caller, so they are not serialized twice).
    struct PreparedAdd {
        let arguments: [RedisArgument]
        let dataText: String
        /// The `opts` field as stored (with `parent` for a flow child).
        let storedOptions: JSONValue
        let optionsText: String
        /// The other hash fields the add writes: `parentKey` and `parent` (a flow child), `parents` (a shared DAG
        /// node), and the extra fields (flowRun, flowNode, flowInputs, command).
        let linkFields: [String: String]
    }

    /// ``addArguments(_:keys:timestamp:jobId:parents:waitsForChildren:extraFields:guardKey:)`` with the stored
    /// data and options kept.
    static func prepareAdd(_ request: JobRequest, keys: QueueKeys, timestamp: Int64, jobId: String? = nil,
                           parents: [(id: String, queue: QueueKeys)] = [], waitsForChildren: Bool = false,
                           extraFields: JSONObject = [:], guardKey: String = "") -> PreparedAdd {
        let options = request.options
        var storedOptions = options.storedJSON
        func link(_ parent: (id: String, queue: QueueKeys)) -> JSONValue {
            var object: JSONObject = ["id": .string(parent.id), "queueKey": .string(parent.queue.qualifiedName)]
            if let flag = options.onFailure.bullMQFlag { object[flag] = true }
            return .object(object)
        }
        var parentKey = "", parentJSON = "", parentsJSON = ""
        if parents.count == 1, let parent = parents.first {
            parentKey = parent.queue.job(parent.id)
            parentJSON = link(parent).serialized()
            if case .object(var object) = storedOptions {
                object["parent"] = ["id": .string(parent.id), "queue": .string(parent.queue.qualifiedName)]
                storedOptions = .object(object)
            }
        } else if parents.count > 1 {
            parentsJSON = JSONValue.array(parents.map(link)).serialized()
        }
        let dataText = request.data.serialized()
        let optionsText = storedOptions.serialized()
        var extraFields = extraFields
        // Tributary's own option: the worker seals the result (`returnvalue`) when the field is set.
        if options.encryptResult { extraFields["encryptResult"] = "1" }
        let extraText = extraFields.isEmpty ? "" : JSONValue.object(extraFields).serialized()
        let arguments: [RedisArgument] = [
            .string(keys.jobKeyPrefix), .string(jobId ?? options.jobId ?? ""), .string(request.name), .integer(timestamp),
            .string(dataText), .string(optionsText),
            .integer(options.delay.milliseconds), .integer(Int64(options.priority)),
            .string(options.lifo ? "RPUSH" : "LPUSH"), .string(parentKey), .string(parentJSON),
            .string(waitsForChildren ? "1" : "0"),
            .string(extraText), .string(parentsJSON),
            .string(guardKey), .string(options.deduplication.map { $0.storedJSON.serialized() } ?? ""),
        ]
        var linkFields: [String: String] = [:]
        if !parentKey.isEmpty {
            linkFields["parentKey"] = parentKey
            linkFields["parent"] = parentJSON
        }
        if !parentsJSON.isEmpty { linkFields["parents"] = parentsJSON }
        for (field, value) in extraFields { linkFields[field] = value.stringValue ?? value.serialized() }
        if let deduplication = options.deduplication { linkFields["deid"] = deduplication.id }
        return PreparedAdd(arguments: arguments, dataText: dataText, storedOptions: storedOptions, optionsText: optionsText,
                           linkFields: linkFields)
    }

    // MARK: Reading

    /// The job with this id, or `nil` when it does not exist.
    public func getJob(_ id: String) async throws -> Job? {
        let reply = try await client.send(RedisCommand("HGETALL", .string(keys.job(id))))
        return Job(id: id, queue: keys, flatFields: reply.array ?? [])
    }

    /// How many jobs are in each state.
    public func getJobCounts() async throws -> JobCounts {
        let listKinds: [(JobState, QueueKeys.Kind)] = [(.waiting, .wait), (.active, .active)]
        let setKinds: [(JobState, QueueKeys.Kind)] = [
            (.delayed, .delayed), (.prioritized, .prioritized), (.completed, .completed), (.failed, .failed),
            (.waitingChildren, .waitingChildren),
        ]
        let commands = listKinds.map { RedisCommand("LLEN", .string(keys.key($0.1))) }
            + setKinds.map { RedisCommand("ZCARD", .string(keys.key($0.1))) }
            + [RedisCommand("LLEN", .string(keys.key(.paused))), RedisCommand("HEXISTS", .string(keys.key(.meta)), "paused")]
        let replies = try await client.pipeline(commands)
        var counts: [JobState: Int] = [:]
        for (index, (state, _)) in (listKinds + setKinds).enumerated() {
            counts[state] = replies[index].int ?? 0
        }
        let legacyPaused = replies[commands.count - 2].int ?? 0
        let isPaused = replies[commands.count - 1].int == 1
        // A paused queue's waiting jobs are reported as paused, as BullMQ does.
        let paused = legacyPaused + (isPaused ? counts[.waiting, default: 0] : 0)
        if isPaused { counts[.waiting] = 0 }
        return JobCounts(counts: counts, paused: paused)
    }

    /// The state of a job, `.unknown` when it is in none of the queue's lists and sets.
    public func getState(_ id: String) async throws -> JobState {
        try await Self.states(of: [(keys, id)], client: client)[0]
    }

    /// The states of many jobs, possibly of several queues, read in one script (`getStates.lua`), so a job that
    /// moves while they are read is seen in one state or the other, never in none.
    static func states(of jobs: [(queue: QueueKeys, id: String)], client: RedisClient) async throws -> [JobState] {
        try await statesAndRecord(of: jobs, runKey: nil, client: client).states
    }

    /// ``states(of:client:)`` with a flow run's record (its fields) read in the same step.
    static func statesAndRecord(of jobs: [(queue: QueueKeys, id: String)], runKey: String?,
                                client: RedisClient) async throws -> (states: [JobState], record: [String: String]) {
        var arguments: [RedisArgument] = [.string(runKey ?? "")]
        arguments.reserveCapacity(1 + jobs.count * 2)
        for (keys, id) in jobs { arguments += [.string(keys.qualifiedName), .string(id)] }
        // On a Redis Cluster, the script runs where the run's (or first job's) keys live: one slot for all.
        let reply = try await client.run(QueueScripts.getStates.script, keys: [], arguments: arguments,
                                         routingKey: runKey ?? jobs.first.map { $0.queue.job($0.id) })
        guard let parts = reply.array, parts.count == jobs.count + 1 else {
            throw QueueError(.unexpectedScriptResult, "getStates returned \(reply)")
        }
        let states = parts.dropFirst().map { JobState(rawValue: $0.string ?? "") ?? .unknown }
        return (states, (parts[0].array ?? []).fieldPairs)
    }
}

/// Job counts per state, as ``Queue/getJobCounts()`` reads them.
public struct JobCounts: Sendable, Hashable {
    private let counts: [JobState: Int]
    /// Waiting jobs of a paused queue.
    public let paused: Int

    init(counts: [JobState: Int], paused: Int) {
        self.counts = counts
        self.paused = paused
    }

    /// The count of one state.
    public subscript(state: JobState) -> Int { counts[state, default: 0] }

    /// Jobs in `wait` (and `paused`).
    public var waiting: Int { self[.waiting] }
    /// Jobs being processed.
    public var active: Int { self[.active] }
    /// Jobs waiting for their delay or backoff.
    public var delayed: Int { self[.delayed] }
    /// Jobs ready in priority order.
    public var prioritized: Int { self[.prioritized] }
    /// Jobs kept in `completed`.
    public var completed: Int { self[.completed] }
    /// Jobs kept in `failed`.
    public var failed: Int { self[.failed] }
    /// Dependents waiting for their children.
    public var waitingChildren: Int { self[.waitingChildren] }
}
