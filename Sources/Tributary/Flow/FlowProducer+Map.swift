/// Where the items of a map node stand (see ``FlowProducer/mapProgress(of:items:)``).
public struct MapProgress: Sendable, Equatable {
    /// One item of the map.
    public struct Item: Sendable, Equatable {
        /// Its position in the list.
        public let index: Int
        /// Its job id, `<map job id>/<index>`.
        public let jobId: String
        /// Its state; `.unknown` when held back by `maxConcurrency` or removed (retention).
        public let state: JobState
        /// Its result, once completed and while its job is kept.
        public let result: JSONValue?
        /// Why it failed, once failed.
        public let failedReason: String?
    }

    /// How many items the list has; 0 until the map node expanded.
    public let total: Int
    /// Items added so far (`total` once the expansion finished).
    public let expanded: Int
    /// Items that completed.
    public let completed: Int
    /// Items that failed for good.
    public let failed: Int
    /// Items held back by `maxConcurrency`.
    public let held: Int
    /// Every item, when asked for (``FlowProducer/mapProgress(of:items:)`` with `items: true`).
    public let items: [Item]?

    /// Items waiting, delayed or active (added, not finished, not held).
    public var running: Int { max(0, expanded - completed - failed - held) }

    /// `37 items: 35 completed, 2 failed` (zero counts left out).
    public var summary: String {
        let parts = [(completed, "completed"), (failed, "failed"), (held, "held"), (running, "running"),
                     (total - expanded, "not added yet")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        return "\(total) item\(total == 1 ? "" : "s")" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }
}

extension FlowProducer {
    /// The items of a map node of a run: counts from the map job's bookkeeping (`:processed`, `:failed`, `:held`),
    /// and with `items` each item's state, result and failure.
    ///
    /// - Returns: `nil` when the node is not a map node or its job is gone.
    public func mapProgress(of node: FlowRunNode, items: Bool = false) async throws -> MapProgress? {
        guard let job = node.job, job.fields["flowMap"] != nil else { return nil }
        let replies = try await client.pipeline([
            RedisCommand("HKEYS", .string(job.key + ":processed")), RedisCommand("HGETALL", .string(job.key + ":failed")),
            RedisCommand("LLEN", .string(job.key + ":held")),
        ])
        let total = job.fields["mapTotal"].flatMap(Int.init) ?? 0
        let itemPrefix = job.key + "/"
        let completed = (replies[0].array ?? []).compactMap(\.string).filter { $0.hasPrefix(itemPrefix) }.count
        let failures = (replies[1].array ?? []).fieldPairs.filter { $0.key.hasPrefix(itemPrefix) }
        var list: [MapProgress.Item]?
        if items, total > 0 {
            let ids = (0..<total).map { "\(job.id)/\($0)" }
            let states = try await Queue.states(of: ids.map { (job.queue, $0) }, client: client)
            let values = try await client.pipeline(ids.map { RedisCommand("HMGET", .string(job.queue.job($0)), "returnvalue") })
            list = ids.indices.map { index in
                MapProgress.Item(index: index, jobId: ids[index], state: states[index],
                                 result: values[index].array?.first?.string.flatMap { try? JSONValue.parse($0) },
                                 failedReason: failures[job.queue.job(ids[index])])
            }
        }
        return MapProgress(total: total, expanded: job.fields["mapExpanded"].flatMap(Int.init) ?? 0, completed: completed,
                           failed: failures.count, held: Int(replies[2].int ?? 0), items: list)
    }
}
