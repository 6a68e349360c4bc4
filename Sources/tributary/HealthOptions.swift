import ArgumentParser
import Tributary

/// The thresholds of `/readyz` (``HealthThresholds``), for `dashboard` and `worker --metrics-port`.
struct HealthOptions: ParsableArguments {
    @Option(help: ArgumentHelp("How long each Redis call of /healthz and /readyz may take (default 2s).", valueName: "duration"))
    var healthTimeout = DurationArgument(.seconds(2), text: "2s")

    @Option(help: ArgumentHelp("/readyz fails while a queue holds more failed jobs than this.", valueName: "count"))
    var readyMaxFailed: Int?

    @Option(help: ArgumentHelp("/readyz fails while a queue holds more jobs waiting to start than this.", valueName: "count"))
    var readyMaxWaiting: Int?

    @Option(help: ArgumentHelp("/readyz fails while a queue has more active jobs than this.", valueName: "count"))
    var readyMaxActive: Int?

    @Option(help: ArgumentHelp("/readyz fails while a queue has fewer worker connections than this (dashboard: 0, worker: 1).",
                               valueName: "count"))
    var readyMinWorkers: Int?

    func validate() throws {
        guard healthTimeout.duration > .zero else { throw ValidationError("--health-timeout must be positive") }
        for (name, value) in [("--ready-max-failed", readyMaxFailed), ("--ready-max-waiting", readyMaxWaiting),
                              ("--ready-max-active", readyMaxActive), ("--ready-min-workers", readyMinWorkers)] {
            if let value, value < 0 { throw ValidationError("\(name) must be at least 0 (got \(value))") }
        }
    }

    func thresholds(minimumWorkers: Int) -> HealthThresholds {
        HealthThresholds(timeout: healthTimeout.duration, minimumWorkers: readyMinWorkers ?? minimumWorkers,
                         maximumFailed: readyMaxFailed, maximumWaiting: readyMaxWaiting, maximumActive: readyMaxActive)
    }
}
