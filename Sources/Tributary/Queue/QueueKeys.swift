/// The Redis keys of one queue, laid out exactly as BullMQ lays them out: `<prefix>:<queue>:<type>`.
public struct QueueKeys: Sendable, Hashable {
    /// The kinds of per-queue keys (the `<type>` part).
    public enum Kind: String, Sendable, CaseIterable {
        /// The list of job ids ready for a worker.
        case wait
        /// The legacy list of waiting jobs of a paused queue; resuming moves what a BullMQ producer left there to
        /// `wait`.
        case paused
        /// The list of job ids being processed.
        case active
        /// The sorted set of ready jobs by priority.
        case prioritized
        /// The sorted set of delayed jobs by the time they are due.
        case delayed
        /// The sorted set of completed jobs by finish time.
        case completed
        /// The sorted set of failed jobs by finish time.
        case failed
        /// The counter that gives jobs without a custom id their id.
        case id
        /// The queue's settings hash (`paused`, `opts.maxLenEvents`, …).
        case meta
        /// The queue's events stream.
        case events
        /// The wake-up marker that idle workers block on.
        case marker
        /// The set of active jobs the next stalled check looks at.
        case stalled
        /// The rate limiter's counter.
        case limiter
        /// The counter that keeps jobs of equal priority in insertion order.
        case priorityCounter = "pc"
        /// The sorted set of dependents waiting for their children.
        case waitingChildren = "waiting-children"
        /// The key that lets one stalled check run per interval across all workers.
        case stalledCheck = "stalled-check"
        /// Job schedulers: a ZSET of scheduler id → next slot (ms); each scheduler's settings are in the hash
        /// `<prefix>:<queue>:repeat:<id>` (see ``QueueKeys/jobScheduler(_:)``).
        case jobSchedulers = "repeat"
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

    /// The settings hash of a job scheduler: `<prefix>:<queue>:repeat:<id>`.
    public func jobScheduler(_ id: String) -> String { key(.jobSchedulers) + ":" + id }

    /// Names a custom job id cannot take: a job's hash `<prefix>:<queue>:<id>` would be one of the queue's own
    /// keys. Every ``Kind``, plus the keys BullMQ keeps beside them (`repeat` for job schedulers, `de` for
    /// deduplication, and `priority`, `meta-paused` and `metrics` of older BullMQ versions).
    public static let reservedJobIds: [String] = Kind.allCases.map(\.rawValue) + ["de", "priority", "meta-paused", "metrics"]

    /// Why a reserved id is refused, for messages: "is reserved: …".
    static let reservedJobIdRule = "is reserved: it would be one of the queue's own keys (reserved ids: "
        + reservedJobIds.joined(separator: ", ") + ")"

    /// Whether `id` is one of ``reservedJobIds``, compared byte for byte as Redis compares keys.
    public static func isReservedJobId(_ id: String) -> Bool {
        reservedJobIds.contains { $0.utf8.elementsEqual(id.utf8) }
    }
}
