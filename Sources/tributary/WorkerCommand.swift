import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Tributary
import TributaryDashboard

/// `tributary worker`: runs workers for one or more queues until SIGINT or SIGTERM.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Process jobs of one or more queues until stopped.",
        discussion: """
            Runs one worker per queue. The CLI knows no job handlers of its own: it runs command steps (jobs with \
            a "command" field, the "run" of a flow file node) when --allow-commands is given, and fails every \
            other job with "no handler for job name '…'".

            A command step gets {"data": …, "inputs": {nodeId: result, …}} as JSON on stdin; its stdout becomes \
            the job's result (JSON if it parses, else the text); a non-zero exit fails the attempt (the job's \
            attempts and backoff apply) and the end of stderr goes to the job's log. Without --allow-commands such \
            jobs fail at once and are never executed. Commands inherit the worker's environment except its \
            credentials (REDIS_URL, REDISCLI_AUTH, TRIBUTARY_KEYS, TRIBUTARY_KEYS_FILE); --pass-env NAME passes one on.

            SECURITY: with --allow-commands, anyone who can write to this Redis can run any program as the user \
            running this worker. Use it only on a Redis that nobody else can write to (the embedded Redis is a \
            unix socket readable by your user only).

            SIGINT (Ctrl-C) or SIGTERM stops it gracefully: no new jobs are taken, running jobs get \
            --grace-period to finish, then the rest are interrupted (their locks expire and another worker runs \
            them again); the exit status is 0.

            Examples:
              tributary worker --queue emails
              tributary worker -q extract -q load --concurrency 8 --allow-commands
              tributary worker -q steps --allow-commands --command-timeout 2m
              tributary worker -q steps --allow-commands --lock-duration 5s --stalled-interval 5s
              tributary worker -q api-calls --limit-max 10 --limit-duration 1s
              REDIS_URL=redis://10.0.0.5:6379 tributary worker -q emails --grace-period 2m
              tributary worker -q emails --metrics-port 9464      # curl -s localhost:9464/metrics
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.customShort("q"), .long], parsing: .upToNextOption,
            help: ArgumentHelp("The queues to process (repeat the option or list several).", valueName: "queue"))
    var queue: [String] = []

    @Option(help: "Jobs run at once, per queue.")
    var concurrency = 1

    @OptionGroup(title: "Crash recovery and rate limit") var tuning: WorkerTuningOptions

    @Flag(help: "Run command steps (jobs with a \"command\" field). See SECURITY above.")
    var allowCommands = false

    @Option(help: "The longest a command step may run when its job has no timeout option (e.g. 90s, 10m).")
    var commandTimeout = DurationArgument(.seconds(600), text: "10m")

    @Option(name: .customLong("pass-env"), help: ArgumentHelp(
        "Let command steps inherit this credential variable (REDIS_URL, REDISCLI_AUTH, TRIBUTARY_KEYS, TRIBUTARY_KEYS_FILE), which they do not by default. Repeatable.",
        valueName: "name"))
    var passEnvironment: [String] = []

    @Option(help: ArgumentHelp("The most bytes of a job's result (16MiB, the command output cap; 'none'); a larger one fails the job.",
                               valueName: "size"))
    var maxResult = ByteCountArgument(DataLimits.default.returnValueBytes, text: "16MiB")

    @Option(help: ArgumentHelp("The most items of one map node (100000; 'none'); a longer list fails the map node.",
                               valueName: "count"))
    var maxMapItems = CountLimitArgument(DataLimits.default.mapItems, text: "100000")

    @Option(help: "On SIGINT/SIGTERM, how long running jobs get to finish before they are interrupted.")
    var gracePeriod = DurationArgument(.seconds(30), text: "30s")

    @Option(help: "A name for the workers (shown by getWorkers and stored in each job's processedBy).")
    var name: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(help: ArgumentHelp(
        "Serve /metrics (Prometheus), /healthz and /readyz on this port (0: any free port, printed at start).",
        valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("The address of the metrics port (127.0.0.1; another one needs --metrics-token).",
                               valueName: "host"))
    var metricsHost = "127.0.0.1"

    @Option(help: ArgumentHelp("A bearer token that /metrics requires.", valueName: "token"))
    var metricsToken: String?

    @OptionGroup(title: "Readiness (/readyz on the metrics port)") var health: HealthOptions

    func validate() throws {
        guard !queue.isEmpty else { throw ValidationError("name at least one queue with --queue") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if let bad = queue.first(where: { $0.isEmpty || $0.contains(":") }) {
            throw ValidationError("queue name '\(bad)' must be non-empty and must not contain ':'")
        }
        guard commandTimeout.duration > .zero else { throw ValidationError("--command-timeout must be positive") }
        if !passEnvironment.isEmpty && !allowCommands { throw ValidationError("--pass-env needs --allow-commands") }
        if let metricsPort {
            do { try probeSettings(port: metricsPort).validate() } catch let error as DashboardError {
                throw ValidationError("--metrics-port: \(error.message)")
            }
        }
    }

    /// How the metrics port listens: the worker's queues, read-only, a token when given.
    func probeSettings(port: Int) -> DashboardConfiguration {
        var settings = DashboardConfiguration(host: metricsHost, port: port, readOnly: true,
                                              access: metricsToken.map(DashboardAccess.token) ?? .open,
                                              prefix: connection.prefix, queues: Set(queue).sorted())
        settings.health = health.thresholds(minimumWorkers: 1)
        return settings
    }

    func run() async throws {
        var logger = Logger(label: "tributary.worker")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if metricsPort != nil { DashboardMetrics.bootstrap() }
        let configuration = try await connection.configuration(.waitForReconnect)
        let client: RedisClient
        do {
            client = try await RedisClient.connect(configuration, logger: logger)
        } catch let error as RedisClientError {
            throw CLIError("cannot reach Redis at \(configuration.endpoint): \(error.description)", status: .redisUnavailable)
        }
        if allowCommands {
            logger.warning("command steps are enabled: anyone who can write to this Redis can run programs as this user",
                           metadata: ["redis": "\(configuration.endpoint)"])
        }
        let cipher = try FieldKeys.load()
        var workers: [Worker] = []
        for name in Set(queue).sorted() {
            let router = JobRouter()
            if allowCommands {
                router.runCommandSteps(CommandStep(options: .init(timeout: commandTimeout.duration, passedEnvironment: Set(passEnvironment))))
            }
            var options = tuning.workerOptions(concurrency: concurrency, name: self.name)
            options.limits.returnValueBytes = maxResult.bytes
            options.limits.mapItems = maxMapItems.count
            options.cipher = cipher
            workers.append(try Worker(queue: name, client: client, prefix: connection.prefix, options: options,
                                      logger: logger, router: router))
        }
        logger.info("starting", metadata: [
            "queues": "\(workers.map(\.keys.queueName).joined(separator: ","))", "concurrency": "\(concurrency)",
            "commands": "\(allowCommands)", "redis": "\(configuration.endpoint)",
        ])
        var groupConfiguration = ServiceGroupConfiguration(
            services: workers.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = gracePeriod.duration
        let group = ServiceGroup(configuration: groupConfiguration)
        let reportLogger = logger
        // Subscribed here, before the workers run, so that no event is missed (events are produced for a subscriber only).
        let reporters = workers.map { worker in
            let events = worker.events
            return Task { await Self.report(worker, events: events, logger: reportLogger) }
        }
        let probes = try await startProbes(logger: logger)
        do {
            try await group.run()
        } catch {
            await probes?.stop()
            await client.close()
            throw error
        }
        for reporter in reporters { await reporter.value }
        await probes?.stop()
        await client.close()
        logger.info("stopped")
    }

    /// The metrics port's server, running beside the workers on a fail-fast connection of its own (so that
    /// `/healthz` answers at once while Redis is down, where the workers wait for it).
    private func startProbes(logger: Logger) async throws -> ProbeServer? {
        guard let metricsPort else { return nil }
        let client = try await connection.connect()
        let server = try DashboardServer(client: client, configuration: probeSettings(port: metricsPort), mode: .probes,
                                         logger: logger)
        let host = metricsHost
        let task = Task {
            do {
                try await server.run { port in
                    FileHandle.standardOutput.write(Data("tributary worker: metrics on http://\(host):\(port)/metrics\n".utf8))
                }
            } catch {
                logger.error("the metrics port stopped", metadata: ["error": "\(error)"])
            }
        }
        return ProbeServer(task: task, client: client)
    }

    /// The metrics port's server and its connection.
    struct ProbeServer {
        let task: Task<Void, Never>
        let client: RedisClient

        func stop() async {
            task.cancel()
            await task.value
            await client.close()
        }
    }

    /// Logs what a worker reports: each job started and finished, with the job's id, name and queue.
    private static func report(_ worker: Worker, events: AsyncStream<WorkerEvent>, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "queue"] = .string(worker.keys.queueName)
        var started: [String: ContinuousClock.Instant] = [:]
        for await event in events {
            switch event {
            case .active(let job):
                started[job.id] = .now
                logger.info("job started", metadata: metadata(job, command: try? CommandStep.command(of: job)))
            case .completed(let job, _):
                var metadata = metadata(job)
                if let start = started.removeValue(forKey: job.id) {
                    metadata["duration"] = "\(Output.duration(milliseconds: (ContinuousClock.now - start).milliseconds))"
                }
                logger.info("job completed", metadata: metadata)
            case .failed(let job, _, _):
                started.removeValue(forKey: job.id)  // the worker logs the failure itself
            case .progress, .stalled, .lockLost, .error:
                break  // the worker logs these itself
            }
        }
    }

    private static func metadata(_ job: Job, command: [String]? = nil) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["job": .string(job.id), "jobName": .string(job.name)]
        if let command { metadata["command"] = .string(command.joined(separator: " ")) }
        return metadata
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
