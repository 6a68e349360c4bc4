import ArgumentParser
import Foundation
import Logging
import Tributary

/// The options `run` and `flow retry` share: wait for the run to settle, and optionally work on it here.
struct RunFollowOptions: ParsableArguments {
    @Flag(help: "Show progress until the run ends; exit 1 unless it completed.")
    var wait = false

    @Flag(help: "Run workers for the flow's queues in this process (implies --wait).")
    var work = false

    @Flag(help: "With --work: run command steps. Anyone who can write to this Redis can then run programs here.")
    var allowCommands = false

    @Option(help: "With --work: jobs run at once per queue.")
    var concurrency = 4

    @Option(help: "With --work: the longest a command step may run when its node has no timeout.")
    var commandTimeout = DurationArgument(.seconds(600), text: "10m")

    @Option(name: .customLong("pass-env"), help: ArgumentHelp(
        "With --allow-commands: let command steps inherit this credential variable (REDIS_URL, REDISCLI_AUTH, TRIBUTARY_KEYS, TRIBUTARY_KEYS_FILE). Repeatable.",
        valueName: "name"))
    var passEnvironment: [String] = []

    @Option(help: "With --work: on SIGINT/SIGTERM, how long running jobs get to finish before they are interrupted.")
    var gracePeriod = DurationArgument(.seconds(30), text: "30s")

    @OptionGroup(title: "With --work: crash recovery and rate limit") var tuning: WorkerTuningOptions

    @Option(help: "With --wait: give up waiting after this long (exit 1).")
    var timeout: DurationArgument?

    func validate() throws {
        if allowCommands && !work { throw ValidationError("--allow-commands needs --work (or start `tributary worker --allow-commands`)") }
        if !passEnvironment.isEmpty && !allowCommands { throw ValidationError("--pass-env needs --allow-commands") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    /// Whether the command follows the run at all.
    var follows: Bool { wait || work }

    /// Follows a run until it settles (with workers for `queues` when --work), prints the final tree and
    /// throws exit 1 unless it completed.
    func follow(runId: String, queues: [String], producer: FlowProducer, configuration: RedisConfiguration,
                json: Bool) async throws {
        var workers: [Worker] = []
        var workerClient: RedisClient?
        if work {
            var workerConfiguration = configuration
            workerConfiguration.disconnectedBehavior = .waitForReconnect
            let shared = try await Self.connect(workerConfiguration)
            workerClient = shared
            workers = try startWorkers(queues: queues, prefix: producer.prefix, limits: producer.limits,
                                       cipher: producer.cipher, client: shared)
        }
        let display: ProgressDisplay? = json ? nil : ProgressDisplay()
        let follower = RunProgress(producer: producer, runId: runId, display: display, timeout: timeout?.duration)
        let final: RunProgress.Outcome?
        if work {
            switch await WorkSession(workers: workers, gracePeriod: gracePeriod).follow(follower, runId: runId, display: display) {
            case .followed(let outcome):
                final = outcome
            case .stopped:
                await workerClient?.close()
                throw ExitCode(ExitStatus.interrupted.rawValue)
            }
        } else {
            final = await follower.follow()
        }
        await workerClient?.close()

        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard let final else { throw CLIError("flow run \(runId) disappeared while waiting", status: .notFound) }
        let view = FlowRunView(run: final.run)
        if json {
            print(FlowRendering.json(view, now: now).prettyPrinted())
        } else {
            print(FlowRendering.tree(view, now: now))
            let took = Output.duration(milliseconds: max(0, now - final.run.createdAt))
            print(final.timedOut ? "run \(runId) is still \(final.run.status.rawValue) after \(took)"
                                 : "run \(runId) \(final.run.status.rawValue) in \(took)")
        }
        if final.timedOut || final.run.status != .completed { throw ExitCode(ExitStatus.failed.rawValue) }
    }

    /// Connects, turning a failure into exit 3.
    static func connect(_ configuration: RedisConfiguration) async throws -> RedisClient {
        do {
            return try await RedisClient.connect(configuration)
        } catch let error as RedisClientError {
            throw CLIError("cannot reach Redis at \(configuration.endpoint): \(error.description)", status: .redisUnavailable)
        }
    }

    private func startWorkers(queues: [String], prefix: String, limits: DataLimits, cipher: FieldCipher?,
                              client: RedisClient) throws -> [Worker] {
        var logger = Logger(label: "tributary.run")
        logger.logLevel = .error  // job failures show in the tree
        return try queues.map { queue in
            let router = JobRouter()
            if allowCommands {
                router.runCommandSteps(CommandStep(options: .init(timeout: commandTimeout.duration,
                                                                  passedEnvironment: Set(passEnvironment))))
            }
            var options = tuning.workerOptions(concurrency: concurrency)
            options.limits = limits
            options.cipher = cipher
            return try Worker(queue: queue, client: client, prefix: prefix, options: options, logger: logger, router: router)
        }
    }
}
