/// Thrown by ``Job/moveToWaitingChildren(childKey:)`` once the job waits in waiting-children for its children: let
/// it propagate out of the handler, and the worker leaves the job there (no completion, no failure, no attempt
/// counted). When its last pending child completes, the job goes back to wait and its handler runs again.
public struct WaitingChildrenError: Error, Sendable, CustomStringConvertible {
    /// The job that now waits for its children.
    public let jobId: String
    public var description: String { "job \(jobId) was moved to waiting-children until its children complete" }
}

/// Dynamic children, BullMQ's step-job pattern: a running job adds children to itself, waits for them, and runs
/// again when they are done. The handler keeps track of where it is in its own data (or in what its children
/// returned), since it runs from the start each time:
///
/// ```swift
/// let worker = try Worker(queue: "orders", client: client) { job in
///     if try await job.dependencyCounts().total == 0 {      // first run: fan out
///         for item in job.data["items"]?.arrayValue ?? [] {
///             try await job.addChild("pack", data: item, queue: "packing")
///         }
///         try await job.moveToWaitingChildren()             // throws WaitingChildrenError: let it propagate
///     }
///     return .int(Int64(try await job.childrenValues().count))   // second run: every child is done
/// }
/// ```
extension Job {
    /// Adds a child to this running job: the child's completion records its return value in this job's
    /// `:processed` hash, as for a child added by ``FlowProducer``. Works inside a worker's handler.
    ///
    /// A custom `jobId` that exists already is handled as BullMQ handles it: the existing job becomes this job's
    /// child when it has no parent (or already has this one): pending if it has not completed, otherwise its
    /// return value is recorded as this job's child value at once. If it is the child of another job that still
    /// exists, nothing changes and `parentCannotBeReplaced` is thrown.
    ///
    /// - Parameters:
    ///   - name: the child's job name.
    ///   - data: the child's data.
    ///   - queue: the child's queue (under this job's prefix); this job's queue by default.
    ///   - options: the child's options; a `jobId` is handled as described above.
    /// - Returns: the child as added (for an existing job, the snapshot describes the request, not the stored job).
    /// - Throws: ``QueueError`` `invalidQueueName`, `invalidOption` before anything is stored; `parentNotFound` when
    ///   this job no longer exists; `parentCannotBeReplaced` (see above); `jobNotInState` outside a handler.
    @discardableResult
    public func addChild(_ name: String, data: JSONValue = .null, queue: String? = nil,
                         options: JobOptions = .init()) async throws -> Job {
        try await addChildren([JobRequest(name, data: data, options: options)], queue: queue)[0]
    }

    /// Adds several children to this running job at once in one atomic script call. A child refused with `parentCannotBeReplaced` does not keep the others from being stored; the error is thrown after the call. See
    /// ``addChild(_:data:queue:options:)``.
    @discardableResult
    public func addChildren(_ requests: [JobRequest], queue: String? = nil) async throws -> [Job] {
        let handle = try runningHandle("addChildren")
        guard !requests.isEmpty else { return [] }
        let childQueue = try Queue(queue ?? self.queue.queueName, client: handle.queue.client, prefix: self.queue.prefix,
                                   limits: handle.queue.limits, cipher: handle.queue.cipher)
        var requests = requests
        for (index, request) in requests.enumerated() {
            do {
                try request.options.validate()
            } catch let error as QueueError {
                throw QueueError(error.code, "child '\(request.name)' of job \(id): \(error.message)")
            }
            requests[index] = try request.sealed(with: childQueue.cipher, what: "child '\(request.name)' of job \(id)")
        }
        let now = EpochClock.milliseconds()
        let timestamps = requests.map { $0.options.timestamp ?? now }
        var batch = JobBatch()
        let prepared = zip(requests, timestamps).map { request, timestamp in
            Queue.prepareAdd(request, keys: childQueue.keys, timestamp: timestamp, parents: [(id, self.queue)])
        }
        for (request, add) in zip(requests, prepared) {
            try DataLimits.check(add.dataText.utf8.count, against: childQueue.limits.jobDataBytes,
                                 "the data of child '\(request.name)' of job \(id)", setting: "DataLimits.jobDataBytes, --max-job-data")
            batch.append(childQueue.keys, addArguments: add.arguments)
        }
        let replies = try await batch.store(on: childQueue.client)
        return try zip(requests, zip(zip(timestamps, prepared), replies)).map { request, item in
            let ((timestamp, preparedAdd), reply) = item
            if let owner = Job(deduplicatedAddReply: reply, queue: childQueue.keys) { return owner }
            guard case .bulkString = reply, let childId = reply.string else {
                if reply.int == -5 {
                    throw QueueError(.parentNotFound, "cannot add child '\(request.name)' to job \(id): the job no longer exists")
                }
                if reply.int == -7 {
                    let childId = request.options.jobId ?? "?"
                    throw QueueError(.parentCannotBeReplaced, "cannot add child '\(request.name)' to job \(id): job \(childId) "
                        + "exists already in queue '\(childQueue.keys.queueName)' and is the child of another job; "
                        + "give the child another jobId, or remove the existing job first")
                }
                throw QueueError(.unexpectedScriptResult, "addJobs returned \(reply) for child '\(request.name)' of job \(id)")
            }
            return Job(added: request, id: childId, queue: childQueue.keys, timestamp: timestamp, prepared: preparedAdd)
        }
    }

    /// Moves this running job to waiting-children if it has pending children (BullMQ's `moveToWaitingChildren`):
    /// its lock is released and it leaves active; then this throws ``WaitingChildrenError``, which the handler must
    /// let propagate. When its last pending child completes, the job goes back to wait (or delayed, or prioritized,
    /// per its options) and the handler runs again.
    ///
    /// Children that completed while the job was running have already been recorded in `:processed`; if none is
    /// pending any more, the job stays active and this returns `false`, so the handler goes on at once.
    ///
    /// - Parameter childKey: wait only if this child (a job key, `<prefix>:<queue>:<id>`) is still pending.
    /// - Returns: `false` when there is nothing to wait for (it never returns `true`: moving throws).
    /// - Throws: ``WaitingChildrenError`` when the job now waits; ``UnrecoverableError`` when a child failed with
    ///   `failParentOnFailure` (the job cannot complete, and the worker fails it at once); ``QueueError`` when the
    ///   job is gone or its lock was lost; `jobNotInState` outside a handler.
    @discardableResult
    public func moveToWaitingChildren(childKey: String? = nil) async throws -> Bool {
        let handle = try runningHandle("moveToWaitingChildren")
        let script = QueueScripts.moveToWaitingChildren
        let reply = try await handle.queue.client.run(
            script.script, keys: script.keys(for: queue),
            arguments: [
                .string(queue.jobKeyPrefix), .string(id), .string(handle.token), .integer(EpochClock.milliseconds()),
                .string(childKey ?? ""),
            ])
        switch reply.int {
        case 0:
            throw WaitingChildrenError(jobId: id)
        case 1:
            return false
        case -9:
            throw UnrecoverableError("job \(id) cannot wait for its children: at least one child failed with "
                + "failParentOnFailure (see the failed list of its dependencies)")
        case -1:
            throw QueueError(.jobNotFound, "moveToWaitingChildren: job \(id) no longer exists")
        case -2, -6:
            handle.events.yield(.lockLost(jobId: id))
            throw QueueError(.jobNotInState, "moveToWaitingChildren refused job \(id): its lock was lost; it may run again elsewhere")
        case -3:
            throw QueueError(.jobNotInState, "moveToWaitingChildren refused job \(id): it is not active")
        default:
            throw QueueError(.unexpectedScriptResult, "moveToWaitingChildren returned \(reply) for job \(id)")
        }
    }
}
