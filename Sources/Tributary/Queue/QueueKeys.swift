/// The Redis keys of one queue, laid out exactly as BullMQ lays them out: `<prefix>:<queue>:<type>`.
public struct QueueKeys: Sendable, Hashable {
    /// The kinds of per-queue keys (the `<type>` part).
    public enum Kind: String, Sendable, CaseIterable {
        case wait, paused, active, prioritized, delayed, completed, failed, id, meta, events, marker, stalled, limiter
        case priorityCounter = "pc"
        case waitingChildren = "waiting-children"
        case stalledCheck = "stalled-check"
    }

    /// The key prefix, `bull` by default. It may carry a Redis Cluster hash tag such as `{tributary}`.
    public let prefix: String
    /// The queue's name.
    public let queueName: String

    /// Creates the key layout of a queue.
    public init(prefix: String = "bull", queueName: String) {
        self.prefix = prefix
        self.queueName = queueName
    }

    /// `<prefix>:<queue>`, which BullMQ calls the queue's qualified name (and a parent's `queueKey`).
    public var qualifiedName: String { "\(prefix):\(queueName)" }

    /// The prefix of every job key of this queue: `<prefix>:<queue>:`.
    public var jobKeyPrefix: String { qualifiedName + ":" }

    /// The key of one kind, e.g. `bull:reports:wait`.
    public func key(_ kind: Kind) -> String { "\(qualifiedName):\(kind.rawValue)" }

    /// The hash of a job: `<prefix>:<queue>:<jobId>`.
    public func job(_ id: String) -> String { jobKeyPrefix + id }
}
