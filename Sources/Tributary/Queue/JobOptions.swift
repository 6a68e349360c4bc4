/// Options of one job, with BullMQ's names, defaults and limits. They are stored in the job hash's `opts` field as
/// BullMQ stores them, so BullMQ workers in other languages read them too.
public struct JobOptions: Sendable, Hashable {
    /// How long to wait before retrying a failed attempt.
    public enum Backoff: Sendable, Hashable {
        /// The same delay before every retry.
        case fixed(delay: Duration, jitter: Double = 0)
        /// `2^(attempt-1) * delay` before retry number `attempt`.
        case exponential(delay: Duration, jitter: Double = 0)
        /// A strategy registered on the worker under this name.
        case custom(type: String, delay: Duration = .zero)
    }

    /// Which finished jobs to keep (`removeOnComplete` / `removeOnFail`).
    public enum Retention: Sendable, Hashable {
        /// Keep every finished job (BullMQ's default).
        case keepAll
        /// Remove the job as soon as it finishes.
        case removeAll
        /// Keep only the newest `count` finished jobs.
        case keepLast(Int)
        /// Keep jobs finished within `age`, and at most `count` of them when `count` is given.
        case keepFor(age: Duration, count: Int? = nil)
    }

    /// The job id; the queue's counter when `nil`. It must not contain ':' and must not be an integer.
    public var jobId: String?
    /// How long the job waits in the delayed set before it can run.
    public var delay: Duration = .zero
    /// 0 (none, the default) to 2,097,151 (``maximumPriority``); lower numbers run first, and any prioritized job
    /// runs after the wait list.
    public var priority: Int = 0
    /// Put the job at the head of the wait list (taken next) instead of the tail.
    public var lifo = false
    /// How many attempts in all, the first included (BullMQ stores 0 when not given, which means one attempt).
    public var attempts: Int = 0
    /// The wait before each retry; retries run at once when `nil`.
    public var backoff: Backoff?
    /// Which completed jobs to keep.
    public var removeOnComplete: Retention = .keepAll
    /// Which failed jobs to keep.
    public var removeOnFail: Retention = .keepAll
    /// The creation time in ms since 1970; now when `nil`.
    public var timestamp: Int64?
    /// How long one attempt may run before the worker cancels it and fails the attempt.
    public var timeout: Duration?
    /// What the job's parent does when the job, as a flow child, fails for good (BullMQ's
    /// `failParentOnFailure`, `ignoreDependencyOnFailure`, `removeDependencyOnFailure`,
    /// `continueParentOnFailure`); by default the parent keeps waiting, as in BullMQ.
    public var onFailure: FailurePolicy = .keepWaiting
    /// Skip the add while another job holds the same deduplication id (BullMQ's `deduplication`, see
    /// ``Deduplication``); the add then returns that job, with ``Job/addWasDeduplicated`` set.
    public var deduplication: Deduplication?
    /// Fields of the job's data to store encrypted: dotted paths of object members (`password`, `card.number`; a
    /// number picks an array element, `cards.0.number`); none inside another.
    /// Each value is replaced by an AES-256-GCM envelope (``FieldEnvelope``) before the job is stored, with the
    /// ``FieldCipher`` of the ``Queue`` or ``FlowProducer``; workers with the key decrypt it before the handler
    /// runs. Tributary's own option: it is not stored in `opts`, only its effect on the data is.
    public var encrypt: [String] = []
    /// Store the job's result encrypted (the path, and additional authenticated data, is `returnvalue`): the
    /// worker seals what the handler returns with its ``WorkerOptions/cipher``. Kept in the job hash's
    /// `encryptResult` field, not in `opts`.
    public var encryptResult = false

    /// Creates options; every parameter has BullMQ's default.
    public init(jobId: String? = nil, delay: Duration = .zero, priority: Int = 0, lifo: Bool = false,
                attempts: Int = 0, backoff: Backoff? = nil, removeOnComplete: Retention = .keepAll,
                removeOnFail: Retention = .keepAll, timestamp: Int64? = nil, timeout: Duration? = nil,
                onFailure: FailurePolicy = .keepWaiting, deduplication: Deduplication? = nil, encrypt: [String] = [],
                encryptResult: Bool = false) {
        self.jobId = jobId
        self.delay = delay
        self.priority = priority
        self.lifo = lifo
        self.attempts = attempts
        self.backoff = backoff
        self.removeOnComplete = removeOnComplete
        self.removeOnFail = removeOnFail
        self.timestamp = timestamp
        self.timeout = timeout
        self.onFailure = onFailure
        self.deduplication = deduplication
        self.encrypt = encrypt
        self.encryptResult = encryptResult
    }

    /// The highest priority number for which jobs of equal priority stay first in, first out: 2^21 - 1.
    ///
    /// The prioritized set's score is `priority * 2^32 + a per-queue counter` (BullMQ's encoding, kept so that
    /// BullMQ workers in other languages read the same order). Scores are doubles, exact only below 2^53, so from
    /// 2^21 on adjacent counters round to the same score and equal priorities come out of order. BullMQ accepts
    /// 2^21 (2,097,152) itself; Tributary refuses it.
    public static let maximumPriority = 2_097_151

    /// The longest `delay` or backoff delay accepted (ten years). Due times are stored as milliseconds since 1970
    /// times 4,096 in the delayed set's scores, which stay exact only below 2^53 (until 2039); larger values are
    /// refused by ``validate()``, and computed waits (exponential backoff, custom strategies) are capped to it.
    public static let maximumDelay = Duration.milliseconds(315_360_000_000)

    /// The number of attempts the worker grants: `attempts`, or 1 when it is 0.
    public var effectiveAttempts: Int { max(attempts, 1) }

    /// Checks every option against BullMQ's rules.
    ///
    /// - Throws: ``QueueError`` with code `invalidOption`, naming the option and the rule it breaks.
    public func validate() throws {
        func invalid(_ message: String) -> QueueError { QueueError(.invalidOption, message) }
        if let jobId {
            if jobId.isEmpty { throw invalid("jobId must not be empty") }
            if jobId.contains(":") { throw invalid("jobId '\(jobId)' must not contain ':'") }
            if Int64(jobId) != nil { throw invalid("jobId '\(jobId)' must not be an integer: integer ids belong to the queue's counter") }
            if QueueKeys.isReservedJobId(jobId) { throw invalid("jobId '\(jobId)' \(QueueKeys.reservedJobIdRule)") }
        }
        if delay < .zero { throw invalid("delay must not be negative (got \(delay))") }
        if delay > Self.maximumDelay {
            throw invalid("delay must be at most \(Self.maximumDelay.milliseconds) ms, ten years (got \(delay))")
        }
        if !(0...Self.maximumPriority).contains(priority) {
            throw invalid("priority must be between 0 and \(Self.maximumPriority) (got \(priority))")
        }
        if attempts < 0 { throw invalid("attempts must not be negative (got \(attempts))") }
        if let delay = backoff?.baseDelay, delay > Self.maximumDelay {
            throw invalid("backoff.delay must be at most \(Self.maximumDelay.milliseconds) ms, ten years (got \(delay))")
        }
        switch backoff {
        case .fixed(let delay, let jitter), .exponential(let delay, let jitter):
            if delay < .zero { throw invalid("backoff.delay must not be negative (got \(delay))") }
            if !(0...1).contains(jitter) { throw invalid("backoff.jitter must be between 0 and 1 (got \(jitter))") }
        case .custom(let type, let delay):
            if type.isEmpty || type == "fixed" || type == "exponential" {
                throw invalid("backoff.type '\(type)' of a custom backoff must be a non-empty name other than fixed/exponential")
            }
            if delay < .zero { throw invalid("backoff.delay must not be negative (got \(delay))") }
        case nil: break
        }
        for (name, retention) in [("removeOnComplete", removeOnComplete), ("removeOnFail", removeOnFail)] {
            switch retention {
            case .keepLast(let count) where count < 0:
                throw invalid("\(name) count must not be negative (got \(count))")
            case .keepFor(let age, let count):
                if age < .zero { throw invalid("\(name).age must not be negative (got \(age))") }
                if let count, count < 0 { throw invalid("\(name).count must not be negative (got \(count))") }
            default: break
            }
        }
        if let timeout, timeout <= .zero { throw invalid("timeout must be positive (got \(timeout))") }
        if let timestamp, timestamp < 0 { throw invalid("timestamp must not be negative (got \(timestamp))") }
        try deduplication?.validate()
        do {
            try EncryptedFieldPaths.validate(encrypt)
        } catch let error as FieldCipherError {
            throw invalid("encrypt: \(error.message)")
        }
    }
}

extension JobOptions.Backoff {
    /// The delay the backoff was given (the base of the exponential formula).
    var baseDelay: Duration {
        switch self {
        case .fixed(let delay, _), .exponential(let delay, _), .custom(_, let delay): delay
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down; saturated at `Int64.min`/`Int64.max` for durations beyond them.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowed) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflowed { return scaled < 0 ? .min : .max }
        return total
    }
}
