/// A flow as it is now: a job, its state, and the children it has (BullMQ's `JobNode`), read by
/// ``FlowProducer/getFlow(id:queue:depth:maxChildren:)``.
public struct FlowTree: Sendable {
    /// The node's job, as stored when it was read.
    public let job: Job
    /// Where the job is in its life.
    public let state: JobState
    /// How many children the job has of each kind, including those not in ``children`` (cut off by the depth or
    /// `maxChildren` limits, or whose job no longer exists).
    public let childCounts: DependencyCounts
    /// The children read: processed ones first, then unprocessed, failed and ignored ones (BullMQ's order); failed
    /// ones in the order they failed, the other kinds sorted by job key. A child whose job hash is gone (removed on completion, say) is left out; its result
    /// is still in the parent's `:processed` (see ``Job/dependencies(_:client:)``).
    public let children: [FlowTree]

    /// What the job returned, once completed.
    public var result: JSONValue? { job.returnValue }
    /// Why the job's last attempt failed, if it did.
    public var failedReason: String? { job.failedReason }

    /// Every node of the tree, this one first, depth first. A job shared by several parents (a multi-parent DAG
    /// node) appears once under each.
    public var allNodes: [FlowTree] { [self] + children.flatMap(\.allNodes) }
}

extension FlowProducer {
    /// Reads a flow from its root (or any node) down: each node's job, state and children, recursively (BullMQ's
    /// `getFlow`). Works on trees added by Tributary, Node or Python BullMQ, and on Tributary's multi-parent DAGs
    /// (a shared node shows up under each of its parents). Children may live in other queues and under other
    /// prefixes: a child key `<prefix>:<queue>:<id>` is split at its last two colons.
    ///
    /// - Parameters:
    ///   - id: the job id of the node to start from.
    ///   - queue: its queue, under this producer's prefix.
    ///   - depth: how many levels to read, the starting node included (1 reads no children).
    ///   - maxChildren: at most this many children of each kind (processed, unprocessed, failed, ignored) per node;
    ///     ``FlowTree/childCounts`` still counts them all.
    /// - Returns: the tree, or `nil` when there is no such job.
    /// - Throws: ``QueueError`` `invalidQueueName`; `invalidOption` for a depth or maxChildren below 1.
    public func getFlow(id: String, queue: String, depth: Int = 10, maxChildren: Int = 20) async throws -> FlowTree? {
        guard !queue.isEmpty, !queue.contains(":") else {
            throw QueueError(.invalidQueueName, "queue name '\(queue)' must be non-empty and must not contain ':'")
        }
        guard depth >= 1, maxChildren >= 1 else {
            throw QueueError(.invalidOption, "getFlow needs depth ≥ 1 and maxChildren ≥ 1 (got depth \(depth), maxChildren \(maxChildren))")
        }
        return try await node(QueueKeys(prefix: prefix, queueName: queue), id: id, depth: depth, maxChildren: maxChildren)
    }

    private func node(_ keys: QueueKeys, id: String, depth: Int, maxChildren: Int) async throws -> FlowTree? {
        let queue = try Queue(keys.queueName, client: client, prefix: keys.prefix)
        guard let job = try await queue.getJob(id) else { return nil }
        let state = try await queue.getState(id)
        let pages = DependencyPages.first(maxChildren)
        let readsChildren = depth > 1
        let counting = ChildrenReader.countCommands(jobKey: job.key)
        let reading = readsChildren ? ChildrenReader.commands(jobKey: job.key, pages: pages) : []
        let replies = try await client.transaction(counting + reading)
        let counts = ChildrenReader.counts(replies[..<counting.count])
        guard readsChildren, counts.total > 0 else {
            return FlowTree(job: job, state: state, childCounts: counts, children: [])
        }
        // A scan's COUNT is only a hint: cap each kind at maxChildren.
        let found = try ChildrenReader.decode(replies[counting.count...], pages: pages)
        var childKeys: [String] = Array(found.processed.keys.sorted().prefix(maxChildren))
        childKeys += found.unprocessed.sorted().prefix(maxChildren)
        childKeys += found.failed.prefix(maxChildren)
        childKeys += found.ignored.keys.sorted().prefix(maxChildren)
        let children = try await withThrowingTaskGroup(of: (Int, FlowTree?).self) { group in
            for (index, childKey) in childKeys.enumerated() {
                guard let (childQueue, childId) = QueueKeys.split(jobKey: childKey) else { continue }
                group.addTask {
                    (index, try await self.node(childQueue, id: childId, depth: depth - 1, maxChildren: maxChildren))
                }
            }
            var nodes: [(Int, FlowTree)] = []
            for try await (index, node) in group {
                if let node { nodes.append((index, node)) }
            }
            return nodes.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return FlowTree(job: job, state: state, childCounts: counts, children: children)
    }
}

extension QueueKeys {
    /// Splits a job key `<prefix>:<queue>:<id>` at its last two colons, as BullMQ does: the prefix may contain
    /// colons, the queue name and the id may not. `nil` when a part would be empty.
    static func split(jobKey: String) -> (queue: QueueKeys, id: String)? {
        guard let idColon = jobKey.lastIndex(of: ":") else { return nil }
        let id = jobKey[jobKey.index(after: idColon)...]
        let queueKey = jobKey[..<idColon]
        guard let queueColon = queueKey.lastIndex(of: ":") else { return nil }
        let queueName = queueKey[queueKey.index(after: queueColon)...]
        let prefix = queueKey[..<queueColon]
        guard !id.isEmpty, !queueName.isEmpty, !prefix.isEmpty else { return nil }
        return (QueueKeys(prefix: String(prefix), queueName: String(queueName)), String(id))
    }
}
