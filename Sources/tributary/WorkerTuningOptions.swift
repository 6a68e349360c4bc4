import ArgumentParser
import Tributary

/// Crash-recovery and rate-limit options of the workers that `tributary worker` and `tributary run --work`
/// start (see "Crash recovery" in docs/production.md for the trade-offs).
struct WorkerTuningOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "How long a running job's lock lasts (renewed every half of it); a killed worker's jobs come back after it.",
        valueName: "duration"))
    var lockDuration = DurationArgument(.seconds(30), text: "30s")

    @Option(help: ArgumentHelp("How often jobs whose lock expired are looked for and put back to wait.",
                               valueName: "duration"))
    var stalledInterval = DurationArgument(.seconds(30), text: "30s")

    @Option(help: "How many times a job may stall (lose its lock) before it fails with \"job stalled more than allowable limit\".")
    var maxStalledCount = 1

    @Option(help: "Rate limit: at most this many jobs started per --limit-duration, across all workers of a queue.")
    var limitMax: Int?

    @Option(help: ArgumentHelp("Rate limit: the window of --limit-max.", valueName: "duration"))
    var limitDuration: DurationArgument?

    func validate() throws {
        guard lockDuration.duration >= .milliseconds(100) else {
            throw ValidationError("--lock-duration must be at least 100ms (got '\(lockDuration.text)')")
        }
        guard stalledInterval.duration >= .milliseconds(100) else {
            throw ValidationError("--stalled-interval must be at least 100ms (got '\(stalledInterval.text)')")
        }
        guard maxStalledCount >= 0 else { throw ValidationError("--max-stalled-count must be 0 or more") }
        switch (limitMax, limitDuration) {
        case (nil, nil):
            break
        case (let max?, let duration?):
            guard max >= 1 else { throw ValidationError("--limit-max must be at least 1") }
            guard duration.duration >= .milliseconds(1) else { throw ValidationError("--limit-duration must be positive") }
        default:
            throw ValidationError("--limit-max and --limit-duration go together (e.g. --limit-max 10 --limit-duration 1s)")
        }
    }

    /// Worker options with these settings and the given concurrency and name.
    func workerOptions(concurrency: Int, name: String? = nil) -> WorkerOptions {
        var limiter: WorkerOptions.RateLimit?
        if let limitMax, let limitDuration { limiter = .init(max: limitMax, duration: limitDuration.duration) }
        return WorkerOptions(concurrency: concurrency, lockDuration: lockDuration.duration,
                             stalledInterval: stalledInterval.duration, maxStalledCount: maxStalledCount,
                             limiter: limiter, name: name)
    }
}
