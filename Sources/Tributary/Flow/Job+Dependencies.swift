/// Reading a flow job's children. Like ``Job/childrenValues(client:)``, these work on any job read from a queue:
/// inside a worker's handler the worker's client is used, elsewhere pass one.
///
/// ```swift
/// let report = try #require(try await queue.getJob(id))
/// let counts = try await report.dependencyCounts(client: client)      // processed, unprocessed, ignored, failed
/// var pages: DependencyPages? = DependencyPages(unprocessed: .init(count: 100))
/// while let page = pages {
///     let children = try await report.dependencies(page, client: client)
///     print(children.unprocessed)
///     pages = children.nextPages
/// }
/// ```
extension Job {
    /// The given client, else the client of the worker running this job.
    func flowClient(_ client: RedisClient?, for action: String) throws -> RedisClient {
        guard let client = client ?? handle?.queue.client else {
            throw QueueError(.jobNotInState, "job \(id): pass a client to \(action) outside a worker's handler")
        }
        return client
    }

    /// This job's children by kind (BullMQ's `getDependencies`): completed ones with their return values, pending
    /// ones, ignored failures with their reasons, and failures that fail this job.
    ///
    /// - Parameters:
    ///   - pages: `nil` (or no kind set) reads every child of every kind in one atomic step; otherwise only the
    ///     kinds given are read, one page each, and ``JobDependencies/nextPages`` says how to read on.
    ///   - client: the client to read with; the worker's client when `nil` inside a handler.
    /// - Throws: ``QueueError`` `invalidOption` for a negative cursor or a count below 1; `jobNotInState` without a
    ///   client outside a handler.
    public func dependencies(_ pages: DependencyPages? = nil, client: RedisClient? = nil) async throws -> JobDependencies {
        try pages?.validate()
        let client = try flowClient(client, for: "dependencies")
        let replies = try await client.transaction(ChildrenReader.commands(jobKey: key, pages: pages))
        return try ChildrenReader.decode(replies[...], pages: pages)
    }

    /// How many children this job has of each kind, read atomically (BullMQ's `getDependenciesCount`).
    public func dependencyCounts(client: RedisClient? = nil) async throws -> DependencyCounts {
        let client = try flowClient(client, for: "dependencyCounts")
        let replies = try await client.transaction(ChildrenReader.countCommands(jobKey: key))
        return ChildrenReader.counts(replies[...])
    }

    /// The children whose final failure this job ignores (`ignoreDependencyOnFailure`, or failures that let it
    /// continue with `continueParentOnFailure`): child job key → failure reason (BullMQ's
    /// `getIgnoredChildrenFailures`).
    public func ignoredChildrenFailures(client: RedisClient? = nil) async throws -> [String: String] {
        let client = try flowClient(client, for: "ignoredChildrenFailures")
        let reply = try await client.send(RedisCommand("HGETALL", .string(key + ":failed")))
        return (reply.array ?? []).fieldPairs
    }
}

extension Queue {
    /// Cuts a child job of this queue loose from its parent (BullMQ's `removeChildDependency`): it leaves the
    /// parent's pending dependencies and loses its `parentKey`/`parent` fields, and its result will not reach the
    /// parent. If it was the parent's last pending child, the parent leaves waiting-children as if that child had
    /// completed: to its delayed set, its prioritized set or the head of its wait list. The child keeps running or
    /// waiting as before.
    ///
    /// - Returns: `true` if the dependency was removed; `false` if there was none (the job has no parent, or already
    ///   completed or was cut loose before).
    /// - Throws: ``QueueError`` `jobNotFound`; `parentNotFound` when the job names a parent that no longer exists.
    @discardableResult
    public func removeChildDependency(_ jobId: String) async throws -> Bool {
        let reply = try await runScript(QueueScripts.removeChildDependency, [
            .string(keys.jobKeyPrefix), .string(jobId), .integer(EpochClock.milliseconds()),
        ])
        switch reply.int {
        case 0: return true
        case 1: return false
        case -1: throw QueueError(.jobNotFound, "cannot remove the parent dependency of job \(jobId) of queue '\(name)': it does not exist")
        case -5: throw QueueError(.parentNotFound, "cannot remove the parent dependency of job \(jobId) of queue '\(name)': its parent does not exist")
        default: throw QueueError(.unexpectedScriptResult, "removeChildDependency returned \(reply) for job \(jobId) of queue '\(name)'")
        }
    }
}
