/// What a running job can do from inside its handler; the worker attaches it to each job it hands out.
final class JobHandle: Sendable {
    let queue: Queue
    let token: String
    let events: WorkerEventHub

    init(queue: Queue, token: String, events: WorkerEventHub) {
        self.queue = queue
        self.token = token
        self.events = events
    }
}

/// Thrown by ``Job/moveToDelayed(by:)`` once the job is in the delayed set: let it propagate out of the handler,
/// and the worker leaves the job where it is (no completion, no failure, no attempt counted).
public struct DelayedError: Error, Sendable, CustomStringConvertible {
    /// The id of the job that was moved.
    public let jobId: String
    /// When the job is due again, in milliseconds since 1970 (its score in the delayed set).
    public let readyAt: Int64
    public var description: String { "job \(jobId) was moved to delayed until \(readyAt)" }
}

extension Job {
    func runningHandle(_ action: String) throws -> JobHandle {
        guard let handle else {
            throw QueueError(.jobNotInState, "job \(id): \(action) works inside a worker's handler; use the Queue methods elsewhere")
        }
        return handle
    }

    /// Reports progress from inside the handler: stored in the job's `progress` field, written to the queue's
    /// events stream as `progress`, and reported as ``WorkerEvent/progress(_:_:)`` by the worker.
    public func updateProgress(_ progress: JSONValue) async throws {
        let handle = try runningHandle("updateProgress")
        try await handle.queue.updateJobProgress(id, progress)
        handle.events.yield(.progress(self, progress))
    }

    /// Replaces the job's stored data from inside the handler (BullMQ's `job.updateData`), for example to record
    /// the step a multi-step job has reached. The ``data`` of this snapshot does not change; the next run sees
    /// the new data. The fields the worker decrypted for the handler are stored encrypted again (with the worker's
    /// ``WorkerOptions/cipher``) wherever the new data still has them.
    public func updateData(_ data: JSONValue) async throws {
        let handle = try runningHandle("updateData")
        try await handle.queue.updateJobData(id, data: try resealingDecryptedFields(data))
    }

    /// The return values of this job's completed children, by child job key (`<prefix>:<queue>:<id>`), as BullMQ's
    /// `getChildrenValues` returns them. Works on any job read from a queue, not only inside a handler. Inside a
    /// handler, encrypted results (``JobOptions/encryptResult``) are decrypted with the worker's keys; outside,
    /// they are returned as stored (``FieldEnvelope``).
    ///
    /// - Throws: ``FieldCipherError`` inside a handler when an encrypted result does not decrypt (its key id named).
    public func childrenValues(client: RedisClient? = nil) async throws -> [String: JSONValue] {
        guard let client = client ?? handle?.queue.client else {
            throw QueueError(.jobNotInState, "job \(id): pass a client to childrenValues outside a worker's handler")
        }
        let flat = try await client.send(RedisCommand("HGETALL", .string(key + ":processed"))).array ?? []
        return try decryptingStoredResults(flat.fieldPairs.mapValues { (try? JSONValue.parse($0)) ?? .string($0) })
    }

    /// Appends a line to the job's log (`<job>:logs`) from inside the handler; returns the number of lines.
    @discardableResult
    public func log(_ line: String) async throws -> Int {
        try await runningHandle("log").queue.addJobLog(id, line)
    }

    /// Puts the running job back in the delayed set for `delay`, without counting an attempt (BullMQ's
    /// `moveToDelayed` + `DelayedError` pattern), then throws ``DelayedError``: let it propagate.
    public func moveToDelayed(by delay: Duration) async throws -> Never {
        let handle = try runningHandle("moveToDelayed")
        let now = EpochClock.milliseconds()
        let readyAt = now + min(max(delay, .zero), JobOptions.maximumDelay).milliseconds
        let script = QueueScripts.moveToDelayed
        let reply = try await handle.queue.client.run(
            script.script, keys: script.keys(for: queue),
            arguments: [
                .string(queue.jobKeyPrefix), .string(id), .integer(now), .integer(readyAt), .string(handle.token), "", "", "0",
            ])
        if reply.int == -13 {
            throw UnrecoverableError("job \(id) was not delayed: its flow run \(flowRunId ?? "?") was cancelled")
        }
        if let code = reply.int, code < 0 {
            throw QueueError(.unexpectedScriptResult, "moveToDelayed refused job \(id) (status \(code)); its lock may be lost")
        }
        throw DelayedError(jobId: id, readyAt: readyAt)
    }
}
