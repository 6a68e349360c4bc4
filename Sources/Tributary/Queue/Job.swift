/// A snapshot of one job, read from its hash (`<prefix>:<queue>:<id>`).
///
/// A job written by another producer may be malformed; such a job still loads, and ``problem`` says what is
/// wrong so that a worker can fail it with that reason instead of crashing or hanging.
public struct Job: Sendable {
    /// The job's id.
    public let id: String
    /// The keys of the job's queue.
    public let queue: QueueKeys
    /// The job's name (what kind of work it is).
    public let name: String
    /// The job's data; `.null` when the stored data is not valid JSON (see ``problem``). In a handler, encrypted
    /// fields (see ``FieldCipher``) are already decrypted; read from Redis, they are envelopes (``FieldEnvelope``).
    public internal(set) var data: JSONValue
    /// The options as stored.
    public let options: JobOptions
    /// When the job was created, in ms since 1970.
    public let timestamp: Int64
    /// Attempts that have finished (BullMQ's `atm`).
    public let attemptsMade: Int
    /// Attempts that have started (BullMQ's `ats`).
    public let attemptsStarted: Int
    /// When the current or last attempt started, in ms since 1970.
    public let processedOn: Int64?
    /// When the job completed or failed for good, in ms since 1970.
    public let finishedOn: Int64?
    /// What the handler returned, once completed.
    public let returnValue: JSONValue?
    /// Why the last attempt failed.
    public let failedReason: String?
    /// Stack traces (or error descriptions) of failed attempts, oldest first.
    public let stacktrace: [String]
    /// The last progress reported.
    public let progress: JSONValue?
    /// The parent's job key (`<prefix>:<queue>:<id>`), for a child in a flow.
    public let parentKey: String?
    /// The worker name that took the job last (`pb`).
    public let processedBy: String?
    /// A failure decided elsewhere (a stalled limit, a failed child) that the next worker applies at once (`defa`).
    public let deferredFailure: String?
    /// What makes this job impossible to process (missing fields, data that is not JSON), if anything.
    public let problem: String?
    /// Every field of the hash as stored.
    public let fields: [String: String]
    /// The deduplication id the job holds or held (`deid`, see ``JobOptions/Deduplication``).
    public var deduplicationId: String? { fields["deid"] }
    /// Set on a job an add returned when that add was deduplicated: nothing was stored, and this is the job that
    /// holds the deduplication id (its fields as read in the same step; only its id when it no longer exists).
    public internal(set) var addWasDeduplicated = false
    /// Set with ``addWasDeduplicated`` when the add used ``JobOptions/Deduplication/keepLastIfActive`` and the
    /// holder was running: the skipped job was kept as the holder's next job and will be added, with this id,
    /// when the holder finishes (unless a later add with the same deduplication id replaces it first).
    public internal(set) var keptNextJobId: String?
    /// Set by the worker on the job it hands to a handler (progress, logs, moveToDelayed).
    var handle: JobHandle?
    /// The paths of the encrypted fields the worker decrypted for the handler; ``updateData(_:)`` seals them again.
    var decryptedPaths: [String] = []
    /// For a node of a flow run, the results of the nodes it needs, by node id; filled by the worker before the
    /// handler runs. A needed node that failed under the `ignore` or `continue` policy is in ``inputFailures``
    /// instead; one that failed under `remove` is in neither.
    public internal(set) var inputs: [String: JSONValue] = [:]
    /// For a node of a flow run, why the needed nodes that failed (policy `ignore` or `continue`) failed, by node id.
    public internal(set) var inputFailures: [String: String] = [:]
    /// For a node of a flow run, the needed nodes that were skipped (their `when` did not hold), in `needs` order;
    /// they are in neither ``inputs`` nor ``inputFailures``.
    public internal(set) var skippedInputs: [String] = []
    /// For a node of a flow run, the items that failed (within `toleratedFailures`) of each needed map node, by node
    /// id; that node's result in ``inputs`` has `null` at their places.
    public internal(set) var itemFailures: [String: [MapItemFailure]] = [:]

    /// What the script that handed this job to a worker read of its inputs, so ``loadInputs(client:)`` needs no
    /// round trip of its own; nil when the job came another way.
    var prefetchedInputs: FlowInputReads?

    /// The job's hash key.
    public var key: String { queue.job(id) }

    /// Decodes ``data`` into a `Decodable` type.
    ///
    /// - Throws: `DecodingError` naming the path that does not fit.
    public func data<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try JSONValueDecoder().decode(type, from: data)
    }

    /// Builds a job from the fields of its hash.
    init(id: String, queue: QueueKeys, fields: [String: String]) {
        self.id = id
        self.queue = queue
        self.fields = fields
        var problems: [String] = []
        if let name = fields["name"] {
            self.name = name
        } else {
            self.name = ""
            problems.append("the job hash has no 'name' field")
        }
        if let text = fields["data"] {
            do {
                data = try JSONValue.parse(text)
            } catch {
                data = .null
                problems.append("the job's data is not valid JSON (\(error))")
            }
        } else {
            data = .null
            problems.append("the job hash has no 'data' field")
        }
        if let text = fields["opts"], let parsed = try? JSONValue.parse(text) {
            options = JobOptions(stored: parsed)
            problems += JobOptions.problems(inStored: parsed)
        } else {
            options = JobOptions()
            if fields["opts"] != nil { problems.append("the job's opts are not valid JSON") }
        }
        timestamp = fields["timestamp"].flatMap { Int64($0) } ?? 0
        attemptsMade = fields["atm"].flatMap { Int($0) } ?? fields["attemptsMade"].flatMap { Int($0) } ?? 0
        attemptsStarted = fields["ats"].flatMap { Int($0) } ?? 0
        processedOn = fields["processedOn"].flatMap { Int64($0) }
        finishedOn = fields["finishedOn"].flatMap { Int64($0) }
        returnValue = fields["returnvalue"].flatMap { try? JSONValue.parse($0) }
        failedReason = fields["failedReason"]
        stacktrace = fields["stacktrace"].flatMap { try? JSONValue.parse($0) }?.arrayValue?.compactMap(\.stringValue) ?? []
        progress = fields["progress"].flatMap { try? JSONValue.parse($0) }
        parentKey = fields["parentKey"]
        processedBy = fields["pb"]
        deferredFailure = fields["defa"]
        problems += Self.linkAndCounterProblems(fields)
        problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// What is wrong with the fields the scripts read back (counters, parent links), as the scripts name it.
    private static func linkAndCounterProblems(_ fields: [String: String]) -> [String] {
        var problems: [String] = []
        for counter in ["atm", "ats", "stc"] {
            if let text = fields[counter], text.count > 18 || text.first == "+" || Int64(text) == nil {
                problems.append("job field '\(counter)' is not an integer: '\(text.prefix(100))'")
            }
        }
        if let text = fields["parents"] {
            let links = (try? JSONValue.parse(text))?.arrayValue
            if links?.allSatisfy({ $0["queueKey"]?.stringValue != nil && $0["id"]?.stringValue != nil }) != true {
                problems.append("job field 'parents' is not a JSON array of parent links: '\(text.prefix(100))'")
            }
        } else if let text = fields["parent"], (try? JSONValue.parse(text))?.objectValue == nil {
            problems.append("job field 'parent' is not a JSON object: '\(text.prefix(100))'")
        }
        return problems
    }

    /// The job as an add just stored it: the fields `addJobs.lua` writes for this request. `prepared`: the data and
    /// options exactly as they were sent, which saves serializing them again; `options`: what the stored options
    /// read back as, when the caller knows it (a bulk of jobs with equal options).
    init(added request: JobRequest, id: String, queue: QueueKeys, timestamp: Int64, prepared: Queue.PreparedAdd? = nil,
         options knownOptions: JobOptions? = nil) {
        let storedOptions = prepared?.storedOptions ?? request.options.storedJSON
        var fields = [
            "name": request.name, "data": prepared?.dataText ?? request.data.serialized(),
            "opts": prepared?.optionsText ?? storedOptions.serialized(),
            "timestamp": String(timestamp), "delay": String(request.options.delay.milliseconds),
            "priority": String(request.options.priority),
        ]
        // The parent links and Tributary's extra fields, so the snapshot has them without a re-read.
        if let linkFields = prepared?.linkFields, !linkFields.isEmpty {
            fields.merge(linkFields) { _, link in link }
        }
        // Reading the texts back gives these same values unless they hold a double (1.0 is written `1` and read
        // back as an integer): only then are they parsed. Either way the snapshot equals what getJob would read
        // from these fields.
        guard !request.data.containsDouble, !storedOptions.containsDouble else {
            self = Job(id: id, queue: queue, fields: fields)
            return
        }
        self.id = id
        self.queue = queue
        self.fields = fields
        name = request.name
        data = request.data
        options = knownOptions ?? JobOptions(stored: storedOptions)
        self.timestamp = timestamp
        attemptsMade = 0
        attemptsStarted = 0
        processedOn = nil
        finishedOn = nil
        returnValue = nil
        failedReason = nil
        stacktrace = []
        progress = nil
        parentKey = fields["parentKey"]
        processedBy = nil
        deferredFailure = nil
        problem = nil
    }

    /// The job an add returned as `{ownerId, ownerFields}` or `{ownerId, ownerFields, keptId}` (addJobs.lua: the
    /// add was deduplicated; kept as the owner's next job), or `nil` for any other reply.
    init?(deduplicatedAddReply reply: RESPValue, queue: QueueKeys) {
        guard case .array(let parts) = reply, parts.count == 2 || parts.count == 3, case .bulkString = parts[0],
              let owner = parts[0].string
        else { return nil }
        self.init(id: owner, queue: queue, fields: (parts[1].array ?? []).fieldPairs)
        addWasDeduplicated = true
        if parts.count == 3 { keptNextJobId = parts[2].string }
    }

    /// Builds a job from a flat `[field, value, field, value…]` reply (HGETALL, or a script returning one).
    init?(id: String, queue: QueueKeys, flatFields: [RESPValue]) {
        guard !flatFields.isEmpty else { return nil }
        self.init(id: id, queue: queue, fields: flatFields.fieldPairs)
    }

    /// The fields a summary of a job reads (``FlowRunJobDetail/summary``): enough to draw it in a run.
    public static let summaryFieldNames = [
        "name", "timestamp", "atm", "ats", "processedOn", "finishedOn", "returnvalue", "failedReason", "skipped",
        "flowMap", "mapTotal", "mapExpanded", "parentKey", "flowDedupHolder",
    ]

    /// A summary of a job from an `HMGET` of ``summaryFieldNames`` (values in that order); `nil` when the job is
    /// gone (every value missing). Data, options and stack traces are not read: ``data`` is `null`, ``options``
    /// the defaults, and ``problem`` is `nil` (a summary does not judge the job).
    init?(id: String, queue: QueueKeys, summaryValues values: [RESPValue]) {
        var fields: [String: String] = [:]
        for (name, value) in zip(Self.summaryFieldNames, values) { if let text = value.string { fields[name] = text } }
        guard !fields.isEmpty else { return nil }
        self.id = id
        self.queue = queue
        self.fields = fields
        name = fields["name"] ?? ""
        data = .null
        options = JobOptions()
        timestamp = fields["timestamp"].flatMap { Int64($0) } ?? 0
        attemptsMade = fields["atm"].flatMap { Int($0) } ?? 0
        attemptsStarted = fields["ats"].flatMap { Int($0) } ?? 0
        processedOn = fields["processedOn"].flatMap { Int64($0) }
        finishedOn = fields["finishedOn"].flatMap { Int64($0) }
        returnValue = fields["returnvalue"].flatMap { try? JSONValue.parse($0) }
        failedReason = fields["failedReason"]
        stacktrace = []
        progress = nil
        parentKey = fields["parentKey"]
        processedBy = nil
        deferredFailure = nil
        problem = nil
    }
}

/// Where a job is in its life.
///
/// The raw values are BullMQ's state names, as `getState` returns them.
public enum JobState: String, Sendable, CaseIterable {
    /// In the `wait` list (or `paused`), ready for a worker.
    case waiting
    /// Taken by a worker, locked while its handler runs.
    case active
    /// In the `delayed` set until its time comes (a `delay` option, or a retry's backoff).
    case delayed
    /// In the `prioritized` set, ready for a worker in priority order.
    case prioritized
    /// Finished with a result (`returnvalue`).
    case completed
    /// Failed for good, with a `failedReason`.
    case failed
    /// A dependent waiting in `waiting-children` for the jobs it needs.
    case waitingChildren = "waiting-children"
    /// In no state list: the job does not exist, or is in a list BullMQ does not name (a map item held back).
    case unknown
}

extension JSONValue {
    /// Whether a double occurs anywhere in the value.
    var containsDouble: Bool {
        switch self {
        case .double: return true
        case .null, .bool, .int, .string: return false
        case .array(let items): return items.contains { $0.containsDouble }
        case .object(let members): return members.values.contains { $0.containsDouble }
        }
    }
}
