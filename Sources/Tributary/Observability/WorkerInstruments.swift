import CoreMetrics
import NIOConcurrencyHelpers

/// The swift-metrics a ``Worker`` records, by queue and job name:
///
/// | label | kind | what |
/// |---|---|---|
/// | `tributary_jobs_completed` | counter | jobs completed |
/// | `tributary_jobs_failed` | counter | jobs failed for good (no attempt left; BullMQ counts failures the same way) |
/// | `tributary_job_attempts_failed` | counter | attempts that failed and will be retried |
/// | `tributary_job_duration` | timer | how long each attempt's handler ran |
/// | `tributary_job_wait` | timer | from the job's `timestamp` (when it was added) to the start of the attempt |
///
/// Dimensions: `queue` and `name` (the job's name). They go to the factory of ``WorkerOptions/metricsFactory``, or
/// to the one bootstrapped with `MetricsSystem.bootstrap` (nothing is recorded anywhere when neither is set).
/// The handles of a job name are made once and reused, so a job allocates no metric objects; after
/// ``maximumNames`` distinct names, further names are recorded under the name `_other`, so that names made of ids
/// cannot grow the metrics without bound.
final class WorkerInstruments: Sendable {
    /// The most job names given their own dimensions.
    static let maximumNames = 256

    /// The handles of one job name.
    struct Handles: Sendable {
        let completed: Counter
        let failed: Counter
        let retried: Counter
        let duration: Timer
        let wait: Timer
    }

    private let queue: String
    private let factory: any MetricsFactory
    private let handles = NIOLockedValueBox([String: Handles]())

    init(queue: String, factory: (any MetricsFactory)?) {
        self.queue = queue
        self.factory = factory ?? MetricsSystem.factory
    }

    /// The handles for `name`, made on first use.
    func handles(for name: String) -> Handles {
        handles.withLockedValue { handles in
            if let existing = handles[name] { return existing }
            let key = handles.count < Self.maximumNames ? name : "_other"
            if let existing = handles[key] { return existing }
            let dimensions = [("queue", queue), ("name", key)]
            let made = Handles(
                completed: Counter(label: "tributary_jobs_completed", dimensions: dimensions, factory: factory),
                failed: Counter(label: "tributary_jobs_failed", dimensions: dimensions, factory: factory),
                retried: Counter(label: "tributary_job_attempts_failed", dimensions: dimensions, factory: factory),
                duration: Timer(label: "tributary_job_duration", dimensions: dimensions, factory: factory),
                wait: Timer(label: "tributary_job_wait", dimensions: dimensions, factory: factory))
            handles[key] = made
            return made
        }
    }

    /// An attempt of `job` starts now: records its wait since the job was added; returns the handles and the start.
    func started(_ job: Job) -> (Handles, ContinuousClock.Instant) {
        let handles = handles(for: job.name)
        let waited = EpochClock.milliseconds() - job.timestamp
        handles.wait.recordNanoseconds(max(0, waited) * 1_000_000)
        return (handles, .now)
    }
}

extension Timer {
    /// Records the time from `start` to now.
    func recordSince(_ start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
