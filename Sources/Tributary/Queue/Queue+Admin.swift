/// Queue-wide administration: pause and resume, drain, clean, obliterate, bulk retry and promotion, and listing
/// jobs and workers. Every operation stores what BullMQ stores and emits BullMQ's events, so BullMQ clients in
/// other languages see the same queue.
extension Queue {
    /// Runs one of the queue's scripts with the queue's keys.
    func runScript(_ script: QueueScript, _ arguments: [RedisArgument]) async throws -> RESPValue {
        // A script without queue keys (it takes the queue's prefix in ARGV) runs, on a cluster, where they live.
        try await client.run(script.script, keys: script.keys(for: keys), arguments: arguments,
                             routingKey: script.keys.isEmpty ? keys.key(.meta) : nil)
    }

    // MARK: Pausing

    /// Pauses the queue for every worker, in every language: workers finish the jobs they hold but take no new
    /// ones. Jobs can still be added; they wait. Emits `paused`.
    ///
    /// Stored as BullMQ v6 stores it: `meta.paused = 1`, and the wake-up marker is dropped.
    public func pause() async throws {
        _ = try await runScript(QueueScripts.pause, [.string("paused"), .string("1")])
    }

    /// Resumes a paused queue and wakes blocked workers. Emits `resumed`.
    ///
    /// Jobs that a BullMQ v5 producer put in the legacy `paused` list are moved to `wait` as well.
    public func resume() async throws {
        var emit = true
        while true {
            let left = try await runScript(QueueScripts.pause, [.string("resumed"), .string(emit ? "1" : "0")])
            guard let count = left.int else {
                throw QueueError(.unexpectedScriptResult, "pause (resume) returned \(left) for queue '\(name)'")
            }
            if count == 0 { return }
            emit = false
        }
    }

    /// Whether the queue is paused (by any client).
    public func isPaused() async throws -> Bool {
        try await client.send(RedisCommand("HEXISTS", .string(keys.key(.meta)), "paused")).int == 1
    }

    // MARK: Removing jobs

    /// Deletes every job waiting to run: the wait list, the prioritized set and BullMQ v5's paused list, and the
    /// delayed set too when `delayed` is true. Active, completed, failed and waiting-children jobs stay.
    ///
    /// - Returns: how many jobs were deleted.
    @discardableResult
    public func drain(delayed: Bool = false) async throws -> Int {
        let reply = try await runScript(QueueScripts.drain, [.string(keys.jobKeyPrefix), .string(delayed ? "1" : "0")])
        guard let count = reply.int else {
            throw QueueError(.unexpectedScriptResult, "drain returned \(reply) for queue '\(name)'")
        }
        return count
    }

    /// Deletes jobs of one state that are older than `grace`, oldest first. Emits `cleaned` with the count.
    ///
    /// Age is measured as BullMQ measures it: `finishedOn` for completed and failed jobs; the first of
    /// `finishedOn`, `processedOn` and `timestamp` for waiting and active jobs; `processedOn` or `timestamp` for
    /// delayed jobs; `timestamp` for prioritized ones. Active jobs whose lock is held are never deleted.
    ///
    /// - Parameters:
    ///   - grace: jobs younger than this are kept.
    ///   - limit: the most jobs to delete; 0 for no limit.
    ///   - state: `.completed`, `.failed`, `.delayed`, `.waiting` (wait and legacy paused lists), `.prioritized`
    ///     or `.active`.
    /// - Returns: the ids of the deleted jobs.
    /// - Throws: ``QueueError`` `invalidOption` for another state, a negative grace or a negative limit.
    @discardableResult
    public func clean(grace: Duration, limit: Int = 0, state: JobState = .completed) async throws -> [String] {
        let names: [JobState: String] = [
            .waiting: "wait", .active: "active", .prioritized: "prioritized", .delayed: "delayed",
            .completed: "completed", .failed: "failed",
        ]
        guard let stateName = names[state] else {
            throw QueueError(.invalidOption, "clean cannot clean \(state.rawValue) jobs of queue '\(name)'; "
                + "use completed, failed, delayed, waiting, prioritized or active")
        }
        guard grace >= .zero, limit >= 0 else {
            throw QueueError(.invalidOption, "clean needs a grace ≥ 0 and a limit ≥ 0 (got \(grace), \(limit))")
        }
        let cutoff = EpochClock.milliseconds() - grace.milliseconds
        let reply = try await runScript(QueueScripts.cleanJobs, [
            .string(keys.jobKeyPrefix), .integer(cutoff), .integer(Int64(limit)), .string(stateName),
        ])
        guard let ids = reply.array else {
            throw QueueError(.unexpectedScriptResult, "cleanJobs returned \(reply) for queue '\(name)'")
        }
        return ids.compactMap(\.string)
    }

    /// Deletes the queue: every key under `<prefix>:<queue>:`, jobs, logs, events and settings alike. Keys of other
    /// queues are untouched, including queues whose name starts with this one's. A job whose parent lives in
    /// another queue is detached from it first.
    ///
    /// The queue is paused while its keys are deleted in batches, so no worker takes a job meanwhile. A worker
    /// that finishes a job while the batches run can write keys a batch has already passed (the events stream,
    /// the completed set), so the deletion runs again from the start until a whole pass finds nothing: when this
    /// returns, no key of the queue is left. Stop the queue's workers first for a clean end: a worker still
    /// running afterwards writes its stalled-check key again.
    ///
    /// - Parameter force: delete even while jobs are active (their workers will fail to finish them).
    /// - Throws: ``QueueError`` `activeJobs` when jobs are active and `force` is false; nothing is deleted then.
    ///   `keysKeepAppearing` when keys of the queue were still being written after
    ///   ``obliteratePasses`` passes (a producer still adding jobs).
    public func obliterate(force: Bool = false) async throws {
        try await obliterate(force: force, batch: 1000, afterStep: nil)
    }

    /// The most deletion passes ``obliterate(force:)`` runs before giving up on a queue whose keys keep coming back.
    public static let obliteratePasses = 20

    /// ``obliterate(force:)`` with the SCAN COUNT of a step and a hook run after each step (for tests that finish
    /// jobs between steps).
    func obliterate(force: Bool, batch: Int, afterStep: (@Sendable () async throws -> Void)?) async throws {
        let pattern = Self.globEscaped(keys.jobKeyPrefix) + "*"
        for pass in 0..<Self.obliteratePasses {
            var cursor = "0"
            var deleted = 0
            repeat {
                // Only the first pass may refuse: later ones clean up what was written while it ran.
                let reply = try await runScript(QueueScripts.obliterate, [
                    .string(keys.jobKeyPrefix), .string(pattern), .string(cursor), .integer(Int64(batch)),
                    .string(force || pass > 0 ? "1" : "0"),
                ])
                if reply.int == -2, case .integer = reply {
                    let active = try await client.send(RedisCommand("LLEN", .string(keys.key(.active)))).int ?? 0
                    throw QueueError(.activeJobs, "cannot obliterate queue '\(name)': \(active) job(s) are active; "
                        + "wait for them to finish or pass force: true")
                }
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let count = parts[1].int else {
                    throw QueueError(.unexpectedScriptResult, "obliterate returned \(reply) for queue '\(name)'")
                }
                cursor = next
                deleted += Int(count)
                try await afterStep?()
            } while cursor != "0"
            if deleted == 0 { return }
            if pass > 0 {
                logger.info("obliterate: keys were written while the queue was being deleted; deleting again",
                            metadata: ["pass": "\(pass + 1)", "deleted": "\(deleted)"])
            }
        }
        throw QueueError(.keysKeepAppearing, "obliterate: keys of queue '\(name)' were still being written after "
            + "\(Self.obliteratePasses) passes; stop the producers and workers of the queue and try again")
    }

    /// The queues that exist under `prefix`: the names of the `<prefix>:<queue>:meta` and `<prefix>:<queue>:id`
    /// keys (a queue that was only ever paused has the first, one that was ever added to has the second), sorted.
    /// Scans the keyspace with SCAN, so it is fine on a live server but takes time on a very large one.
    public static func names(client: RedisClient, prefix: String = "bull") async throws -> [String] {
        var names: Set<String> = []
        let pattern = globEscaped(prefix) + ":*"
        for suffix in [":meta", ":id"] {
            try await client.scan(matching: pattern + suffix) { keys in
                for key in keys {
                    let name = key.dropFirst(prefix.count + 1).dropLast(suffix.count)
                    if !name.isEmpty && !name.contains(":") { names.insert(String(name)) }
                }
            }
        }
        return names.sorted()
    }

    /// `text` with Redis glob characters (`* ? [ ] \`) escaped, for SCAN MATCH.
    static func globEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    // MARK: Moving jobs in bulk

    /// Moves every failed (or completed) job back to wait, in batches of `count`. Each retried job loses
    /// `finishedOn`, `processedOn` and `failedReason` (or `returnvalue`) and keeps its attempt counters, as in
    /// BullMQ; a job with a priority goes to the prioritized set. Emits `waiting` (prev = failed or completed)
    /// for each job. Jobs that finish while this runs are not retried.
    ///
    /// - Returns: how many jobs were moved.
    /// - Throws: ``QueueError`` `invalidOption` for a state other than `.failed`/`.completed` or a count below 1.
    @discardableResult
    public func retryJobs(state: JobState = .failed, count: Int = 1000) async throws -> Int {
        guard state == .failed || state == .completed else {
            throw QueueError(.invalidOption, "retryJobs retries failed or completed jobs, not \(state.rawValue) ones")
        }
        return try await moveJobsToWait(from: state.rawValue, count: count, cutoff: EpochClock.milliseconds())
    }

    /// Makes every delayed job ready now, in batches of `count`: each goes to wait (or prioritized) with delay 0.
    /// Emits `waiting` (prev=delayed) for each job.
    ///
    /// - Returns: how many jobs were promoted.
    /// - Throws: ``QueueError`` `invalidOption` for a count below 1.
    @discardableResult
    public func promoteJobs(count: Int = 1000) async throws -> Int {
        try await moveJobsToWait(from: "delayed", count: count, cutoff: 0)
    }

    private func moveJobsToWait(from state: String, count: Int, cutoff: Int64) async throws -> Int {
        guard count >= 1 else { throw QueueError(.invalidOption, "the batch count must be at least 1 (got \(count))") }
        var moved = 0
        while true {
            let reply = try await runScript(QueueScripts.moveJobsToWait, [
                .string(keys.jobKeyPrefix), .string(state), .integer(Int64(count)), .integer(cutoff),
            ])
            guard let parts = reply.array, parts.count == 2, let taken = parts[0].int, let batchMoved = parts[1].int else {
                throw QueueError(.unexpectedScriptResult, "moveJobsToWait returned \(reply) for queue '\(name)'")
            }
            moved += batchMoved
            if taken < count { return moved }
        }
    }

    // MARK: Listing

    /// The jobs in the given states, state by state in the order given, each state's range in BullMQ's order.
    ///
    /// `start` and `end` are zero-based and inclusive (-1 is the last), applied to each state. By default the
    /// newest jobs come first; with `ascending` the oldest do. For completed and failed jobs "newest" means the
    /// latest finished; for delayed jobs the latest due; for prioritized jobs the lowest priority. `.waiting`
    /// includes BullMQ v5's paused list; an empty `states` means every state. A job listed twice is returned
    /// once; jobs deleted while reading are skipped.
    public func getJobs(_ states: [JobState], start: Int = 0, end: Int = -1, ascending: Bool = false) async throws -> [Job] {
        let chosen = states.isEmpty
            ? [.active, .completed, .delayed, .failed, .prioritized, .waiting, .waitingChildren] : states
        var ranges: [(command: RedisCommand, isList: Bool)] = []
        var seenStates: Set<JobState> = []
        for state in chosen where seenStates.insert(state).inserted {
            let start = Int64(start), end = Int64(end)
            switch state {
            case .waiting, .active:
                for kind in state == .waiting ? [QueueKeys.Kind.wait, .paused] : [.active] {
                    // Lists hold the newest job at the head.
                    let command = ascending
                        ? RedisCommand("LRANGE", .string(keys.key(kind)), .integer(-(end + 1)), .integer(-(start + 1)))
                        : RedisCommand("LRANGE", .string(keys.key(kind)), .integer(start), .integer(end))
                    ranges.append((command, true))
                }
            case .delayed, .prioritized, .completed, .failed, .waitingChildren:
                let kinds: [JobState: QueueKeys.Kind] = [
                    .delayed: .delayed, .prioritized: .prioritized, .completed: .completed, .failed: .failed,
                    .waitingChildren: .waitingChildren,
                ]
                let key = RedisArgument.string(keys.key(kinds[state]!))
                ranges.append((RedisCommand(ascending ? "ZRANGE" : "ZREVRANGE", key, .integer(start), .integer(end)), false))
            case .unknown:
                continue
            }
        }
        guard !ranges.isEmpty else { return [] }
        let replies = try await client.pipeline(ranges.map(\.command))
        var ids: [String] = []
        var seenIds: Set<String> = []
        for (range, reply) in zip(ranges, replies) {
            if case .error(let error) = reply { throw error }
            var found = (reply.array ?? []).compactMap(\.string)
            if ascending && range.isList { found.reverse() }
            for id in found where seenIds.insert(id).inserted { ids.append(id) }
        }
        return try await loadJobs(ids)
    }

    /// Parents waiting for their children (the `waiting-children` set), oldest first.
    public func getWaitingChildren(start: Int = 0, end: Int = -1) async throws -> [Job] {
        try await getJobs([.waitingChildren], start: start, end: end, ascending: true)
    }

    /// The jobs with these ids, in order, skipping those that do not exist.
    func loadJobs(_ ids: [String]) async throws -> [Job] {
        guard !ids.isEmpty else { return [] }
        let replies = try await client.pipeline(ids.map { RedisCommand("HGETALL", .string(keys.job($0))) })
        return zip(ids, replies).compactMap { id, reply in Job(id: id, queue: keys, flatFields: reply.array ?? []) }
    }

    // MARK: Workers

    /// The workers connected to this queue, found as BullMQ finds them: by the names of their Redis connections
    /// in `CLIENT LIST`.
    ///
    /// A worker's connection is named ``QueueKeys/workerClientName(workerName:)`` (Node BullMQ's form,
    /// `<prefix>:<base64 of the queue name>`, plus `:w:<worker name>` for a named worker); Python BullMQ's form,
    /// with the queue name in plain text, is recognised too.
    ///
    /// - Throws: a Redis error where `CLIENT LIST` is not allowed (some hosted Redis services).
    public func getWorkers() async throws -> [WorkerInfo] {
        // On a cluster, a worker's connections may be on any master.
        var text = ""
        for reply in try await client.sendToEachMaster(RedisCommand("CLIENT", "LIST")) {
            guard let list = reply.string else {
                throw QueueError(.unexpectedScriptResult, "CLIENT LIST returned \(reply)")
            }
            text += list + "\n"
        }
        let baseNames = [keys.workerClientName(), keys.qualifiedName]
        return text.split(whereSeparator: \.isNewline).compactMap { line in
            WorkerInfo(clientListLine: line, baseNames: baseNames)
        }
    }
}

/// A worker connected to a queue, as ``Queue/getWorkers()`` finds it in `CLIENT LIST`.
public struct WorkerInfo: Sendable, Hashable {
    /// The worker's name (what follows `:w:` in the connection name), `nil` for an unnamed worker.
    public let name: String?
    /// The connection's full client name.
    public let clientName: String
    /// The client's address, `ip:port` (or a unix socket path form).
    public let address: String
    /// How long the connection has been open.
    public let age: Duration
    /// How long the connection has been idle.
    public let idle: Duration
    /// Every field of the `CLIENT LIST` line (`id`, `addr`, `name`, `age`, `idle`, `db`, `cmd`…).
    public let fields: [String: String]

    /// Reads one `CLIENT LIST` line; `nil` unless the client name is one of `baseNames`, or one of them followed
    /// by `:w:<worker name>`.
    init?(clientListLine line: Substring, baseNames: [String]) {
        var fields: [String: String] = [:]
        for pair in line.split(separator: " ") {
            guard let equals = pair.firstIndex(of: "=") else { continue }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        guard let clientName = fields["name"], !clientName.isEmpty else { return nil }
        guard let base = baseNames.first(where: { clientName == $0 || clientName.hasPrefix($0 + ":w:") }) else {
            return nil
        }
        self.name = clientName == base ? nil : String(clientName.dropFirst(base.count + 3))
        self.clientName = clientName
        self.address = fields["addr"] ?? ""
        self.age = .seconds(Int64(fields["age"] ?? "") ?? 0)
        self.idle = .seconds(Int64(fields["idle"] ?? "") ?? 0)
        self.fields = fields
    }
}

extension QueueKeys {
    /// The Redis connection name by which ``Queue/getWorkers()`` (and BullMQ's `getWorkers`) recognise a worker
    /// of this queue: `<prefix>:<base64 of the queue name>`, plus `:w:<workerName>` for a named worker — Node
    /// BullMQ's form. Set it as ``RedisConfiguration/clientName`` of the worker's connection.
    public func workerClientName(workerName: String? = nil) -> String {
        let base = "\(prefix):\(Self.base64(Array(queueName.utf8)))"
        guard let workerName else { return base }
        return "\(base):w:\(workerName)"
    }

    /// Standard base64 with padding, as Node's `Buffer.toString('base64')` writes it.
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var output = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for (offset, byte) in chunk.enumerated() { value |= Int(byte) << (16 - 8 * offset) }
            for position in 0..<4 {
                output.append(position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 63] : "=")
            }
            index += 3
        }
        return output
    }
}
