import CoreMetrics

/// How a ``Worker`` runs; every default is BullMQ's.
public struct WorkerOptions: Sendable {
    /// A rate limit: at most `max` jobs started per `duration`, across every worker of the queue.
    public struct RateLimit: Sendable, Hashable {
        /// The most jobs started per window.
        public var max: Int
        /// The window.
        public var duration: Duration
        /// A limit of `max` jobs per `duration`.
        public init(max: Int, duration: Duration) {
            self.max = max
            self.duration = duration
        }
    }

    /// BullMQ's metrics: finished jobs counted per minute in `<prefix>:<queue>:metrics:completed` and `:failed`,
    /// read with ``Queue/getMetrics(_:start:end:)`` (and by BullMQ's `getMetrics`). Use the same setting on every
    /// worker of a queue.
    public struct Metrics: Sendable, Hashable {
        /// How many one-minute points to keep (older ones are dropped); see ``MetricsTime``.
        public var maxDataPoints: Int
        /// Keeps `maxDataPoints` minutes, e.g. `.init(maxDataPoints: MetricsTime.twoWeeks)`.
        public init(maxDataPoints: Int) {
            self.maxDataPoints = maxDataPoints
        }
    }

    /// A custom backoff: given the attempts made so far (1 after the first failure) and the error, the wait before
    /// the next attempt.
    public typealias BackoffStrategy = @Sendable (_ attemptsMade: Int, _ error: any Error, _ job: Job) -> Duration

    /// How many jobs this worker runs at once.
    public var concurrency = 1
    /// How long a job's lock lasts; it is renewed every half of it while the job runs.
    public var lockDuration: Duration = .seconds(30)
    /// How often active jobs are checked for stalls (lost locks).
    public var stalledInterval: Duration = .seconds(30)
    /// How many times a job may stall before it fails with "job stalled more than allowable limit".
    public var maxStalledCount = 1
    /// The longest a worker blocks waiting for a job before looking again.
    public var drainDelay: Duration = .seconds(5)
    /// An optional rate limit.
    public var limiter: RateLimit?
    /// A name stored in each job it takes (`pb`) and given to its Redis connection.
    public var name: String?
    /// Custom backoff strategies by type name (`JobOptions.Backoff.custom(type:)`).
    public var backoffStrategies: [String: BackoffStrategy] = [:]
    /// Limits on results (``DataLimits/returnValueBytes``), map items (``DataLimits/mapItems``) and the data of
    /// children a handler adds (``DataLimits/jobDataBytes``).
    public var limits: DataLimits = .default
    /// The keys that decrypt encrypted fields (``FieldEnvelope``) before the handler runs, seal results of jobs
    /// that ask for it (``JobOptions/encryptResult``) and encrypt the children handlers add. `nil`: no keys; a job
    /// with an encrypted field then fails at once, without retries, with a reason naming the key id. The library
    /// does not read the environment by itself: use ``FieldCipher/fromEnvironment(_:)`` (the CLI does).
    public var cipher: FieldCipher?
    /// BullMQ's per-minute metrics of finished jobs; `nil` (the default, as in BullMQ): none are written, and
    /// finishing a job costs nothing more.
    public var metrics: Metrics?
    /// Where the worker's swift-metrics go (jobs completed and failed, job duration and wait, by queue and job
    /// name; see docs/observability.md): this factory, or, when `nil` (the default), the one bootstrapped with
    /// `MetricsSystem.bootstrap` (none: nothing is recorded). A factory per worker keeps tests apart.
    public var metricsFactory: (any MetricsFactory)?

    /// Creates options with BullMQ's defaults.
    public init(concurrency: Int = 1, lockDuration: Duration = .seconds(30), stalledInterval: Duration = .seconds(30),
                maxStalledCount: Int = 1, drainDelay: Duration = .seconds(5), limiter: RateLimit? = nil, name: String? = nil,
                backoffStrategies: [String: BackoffStrategy] = [:], limits: DataLimits = .default,
                cipher: FieldCipher? = nil, metrics: Metrics? = nil, metricsFactory: (any MetricsFactory)? = nil) {
        self.concurrency = concurrency
        self.lockDuration = lockDuration
        self.stalledInterval = stalledInterval
        self.maxStalledCount = maxStalledCount
        self.drainDelay = drainDelay
        self.limiter = limiter
        self.name = name
        self.backoffStrategies = backoffStrategies
        self.limits = limits
        self.cipher = cipher
        self.metrics = metrics
        self.metricsFactory = metricsFactory
    }
}

/// Numbers of one-minute data points for ``WorkerOptions/Metrics/maxDataPoints``, BullMQ's `MetricsTime`.
public enum MetricsTime {
    /// One minute.
    public static let oneMinute = 1
    /// Fifteen minutes.
    public static let fifteenMinutes = 15
    /// One hour.
    public static let oneHour = 60
    /// One day.
    public static let oneDay = 60 * 24
    /// One week.
    public static let oneWeek = 60 * 24 * 7
    /// Two weeks (BullMQ's recommendation: about 120 kB per queue).
    public static let twoWeeks = 60 * 24 * 7 * 2
}

/// Throw this from a handler to fail the job at once, skipping any attempts left.
public struct UnrecoverableError: Error, Sendable, CustomStringConvertible {
    /// The reason stored as the job's `failedReason`.
    public let message: String
    /// An error whose `message` becomes the job's failure reason.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What a worker reports while it runs.
public enum WorkerEvent: Sendable {
    /// A job was taken and its handler started.
    case active(Job)
    /// A job completed with this value.
    case completed(Job, JSONValue)
    /// An attempt failed; `willRetry` tells whether another attempt follows.
    case failed(Job, reason: String, willRetry: Bool)
    /// A handler reported progress with ``Job/updateProgress(_:)``.
    case progress(Job, JSONValue)
    /// Jobs found stalled by this worker's check and put back to wait.
    case stalled(jobIds: [String])
    /// The lock of a running job was lost (another worker may run it again).
    case lockLost(jobId: String)
    /// A Redis or internal error; the worker keeps going.
    case error(String)
}

extension JobOptions.Retention {
    /// The keep-count and keep-age arguments of `moveToFinished.lua`.
    var scriptArguments: (count: Int64, ageSeconds: Int64) {
        switch self {
        case .keepAll: return (-1, 0)
        case .removeAll: return (0, 0)
        case .keepLast(let count): return (Int64(count), 0)
        case .keepFor(let age, let count): return (count.map(Int64.init) ?? -1, max(1, age.milliseconds / 1000))
        }
    }
}

extension JobOptions.Backoff {
    /// The wait before the next attempt after `attemptsMade` failed ones, BullMQ's formulas: fixed `delay`,
    /// exponential `2^(attemptsMade-1) * delay`, each lowered by up to `jitter` of itself at random. Whatever the
    /// formula or a custom strategy gives is kept within 0...``JobOptions/maximumDelay`` (no overflow, however
    /// large the stored delay or the number of attempts).
    func delay(attemptsMade: Int, error: any Error, job: Job, strategies: [String: WorkerOptions.BackoffStrategy]) -> Duration? {
        unboundedDelay(attemptsMade: attemptsMade, error: error, job: job, strategies: strategies)
            .map { min(max($0, .zero), JobOptions.maximumDelay) }
    }

    private func unboundedDelay(attemptsMade: Int, error: any Error, job: Job,
                                strategies: [String: WorkerOptions.BackoffStrategy]) -> Duration? {
        let limit = JobOptions.maximumDelay.milliseconds
        func jittered(_ base: Duration, _ jitter: Double) -> Duration {
            let base = min(max(base, .zero), JobOptions.maximumDelay)
            guard jitter > 0 else { return base }
            let jitter = min(jitter, 1)  // stored options are not validated: keep the result within 0...base
            let milliseconds = Double(base.milliseconds)
            return .milliseconds(Int64((milliseconds * (1 - jitter) + Double.random(in: 0..<1) * milliseconds * jitter).rounded(.down)))
        }
        switch self {
        case .fixed(let delay, let jitter):
            return jittered(delay, jitter)
        case .exponential(let delay, let jitter):
            let factor = Int64(1) << Int64(min(max(attemptsMade - 1, 0), 40))
            let (product, overflow) = max(delay.milliseconds, 0).multipliedReportingOverflow(by: factor)
            return jittered(.milliseconds(overflow ? limit : min(product, limit)), jitter)
        case .custom(let type, _):
            return strategies[type].map { $0(attemptsMade, error, job) }
        }
    }
}
