/// The Redis keys of one queue, laid out exactly as BullMQ lays them out: `<prefix>:<queue>:<type>`.
public struct QueueKeys: Sendable, Hashable {
    /// The kinds of per-queue keys (the `<type>` part).
    public enum Kind: String, Sendable, CaseIterable {
        case wait, paused, active, prioritized, delayed, completed, failed, id, meta, events, marker, stalled, limiter
        case priorityCounter = "pc"
        case waitingChildren = "waiting-children"
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
