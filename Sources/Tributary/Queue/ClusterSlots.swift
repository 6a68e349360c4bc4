/// The Redis Cluster rules for queues and flows, checked before anything is written (BullMQ's rule, with the same
/// keys): every key of a queue must hash to one slot, which takes a hash tag in the prefix (`{tributary}`) or in
/// the queue name (`{orders}`); and every queue of a flow, with the flow's own records (`<prefix>:__flows__:…`),
/// must share one slot, which takes a hash tag in the prefix. On a single server any names are fine.
public enum ClusterSlots {
    /// The slot of every key of the queue, or `nil` when its keys would spread over slots (no hash tag in
    /// `<prefix>:<queue>:`).
    public static func slot(of queue: QueueKeys) -> Int? {
        HashSlot.fixedSlot(forKeysStartingWith: queue.jobKeyPrefix)
    }

    /// Why `queue` cannot live on a Redis Cluster, or `nil` when it can.
    public static func queueProblem(_ queue: QueueKeys) -> String? {
        guard slot(of: queue) == nil else { return nil }
        let wait = queue.key(.wait), job = queue.job("1")
        return "queue '\(queue.queueName)' (prefix '\(queue.prefix)') would spread its keys over Redis Cluster hash slots "
            + "('\(wait)' in slot \(HashSlot.of(wait)), '\(job)' in slot \(HashSlot.of(job))): put a hash tag in the prefix, "
            + "such as '{\(queue.prefix)}', or in the queue name, such as '{\(queue.queueName)}'"
    }

    /// Why the flow over `queues` under `prefix` cannot run on a Redis Cluster, or `nil` when it can: the queues
    /// and the flow records must all be in one slot.
    public static func flowProblem(flow: String, prefix: String, queues: [String]) -> String? {
        let records = QueueKeys(prefix: prefix, queueName: FlowProducer.reservedQueueName)
        var placed: [(what: String, slot: Int?)] = []
        var seen: Set<String> = []
        for queue in queues where seen.insert(queue).inserted {
            placed.append(("queue '\(queue)'", slot(of: QueueKeys(prefix: prefix, queueName: queue))))
        }
        placed.append(("its records ('\(records.jobKeyPrefix)…')", slot(of: records)))
        let slots = Set(placed.map(\.slot))
        guard slots.count > 1 || slots.contains(nil) else { return nil }
        let listing = placed.map { "\($0.what) in \($0.slot.map { "slot \($0)" } ?? "several slots")" }.joined(separator: ", ")
        return "flow '\(flow)' would span Redis Cluster hash slots (\(listing)): a flow's queues and records must share one "
            + "slot; give the flow's prefix a hash tag, such as '{\(HashSlot.tag(of: prefix) ?? prefix)}'"
    }

    /// Throws ``QueueError`` `crossSlot` when `client` is a cluster client and `queue` would spread over slots.
    static func checkQueue(_ queue: QueueKeys, on client: RedisClient) throws {
        guard client.isCluster, let problem = queueProblem(queue) else { return }
        throw QueueError(.crossSlot, problem)
    }

    /// Throws ``QueueError`` `crossSlot`, before anything is sent, when `client` is a cluster client and the flow
    /// would span slots.
    static func checkFlow(_ flow: String, prefix: String, queues: [String], on client: RedisClient) throws {
        guard client.isCluster, let problem = flowProblem(flow: flow, prefix: prefix, queues: queues) else { return }
        throw QueueError(.crossSlot, "nothing was stored: " + problem)
    }
}
