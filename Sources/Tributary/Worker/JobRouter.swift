import NIOConcurrencyHelpers

/// Sends each job to the handler registered for its name.
///
/// ```swift
/// let worker = try Worker(queue: "media", client: client)
/// worker.handle("extract") { job in try await extract(job.data) }
/// worker.handle("thumbnail") { job in try await thumbnail(job.data) }
/// try await worker.run()
/// ```
///
/// How a job is chosen a handler, in order:
/// 1. a command step (a job with a `command` field) runs its command when command steps are on
///    (``runCommandSteps(_:)``), and fails at once otherwise, never executed;
/// 2. the handler registered for the job's name;
/// 3. the fallback handler (the one a ``Worker`` was created with), if any;
/// 4. otherwise the job fails at once (no retries) with "no handler for job name '…'": every worker of a queue
///    should know every job name the queue receives.
///
/// Handlers may be registered and replaced at any time, also while the worker runs.
public final class JobRouter: Sendable {
    private struct Routes {
        var handlers: [String: Worker.Handler] = [:]
        var fallback: Worker.Handler?
        var commandStep: CommandStep?
    }

    private let routes: NIOLockedValueBox<Routes>

    /// Creates a router; `fallback` takes the jobs no named handler takes.
    public init(fallback: Worker.Handler? = nil) {
        routes = NIOLockedValueBox(Routes(fallback: fallback))
    }

    /// Runs `handler` for jobs named `name`, replacing any handler registered for that name before.
    public func handle(_ name: String, _ handler: @escaping Worker.Handler) {
        routes.withLockedValue { $0.handlers[name] = handler }
    }

    /// Runs `handler` for a `Decodable` payload, returning any `Encodable` value as the job's result.
    public func handle<Payload: Decodable & Sendable, Output: Encodable & Sendable>(
        _ name: String, as payload: Payload.Type, _ handler: @escaping @Sendable (Payload, Job) async throws -> Output
    ) {
        handle(name) { job in
            let input: Payload
            do {
                input = try job.data(as: Payload.self)
            } catch {
                throw UnrecoverableError("job \(job.id) ('\(name)') has data that does not fit \(Payload.self): \(error)")
            }
            return try JSONValueEncoder().encode(try await handler(input, job))
        }
    }

    /// The names that have a handler, sorted.
    public var names: [String] { routes.withLockedValue { $0.handlers.keys.sorted() } }

    /// Turns command steps on: jobs with a `command` field run their command through `commandStep`. Only do this
    /// when everyone who can write to the Redis server may run programs as this process's user.
    public func runCommandSteps(_ commandStep: CommandStep = CommandStep()) {
        routes.withLockedValue { $0.commandStep = commandStep }
    }

    /// Whether command steps are on.
    public var runsCommandSteps: Bool { routes.withLockedValue { $0.commandStep != nil } }

    /// Runs the handler that `job` routes to and returns its result.
    ///
    /// - Throws: what the handler throws; ``UnrecoverableError`` when no handler takes the job or it is a command
    ///   step while command steps are off.
    public func route(_ job: Job) async throws -> JSONValue {
        let (handler, fallback, commandStep) = routes.withLockedValue { ($0.handlers[job.name], $0.fallback, $0.commandStep) }
        if try CommandStep.command(of: job) != nil {
            guard let commandStep else {
                throw UnrecoverableError("job \(job.id) is a command step; start the worker with --allow-commands to run commands "
                    + "(in Swift: JobRouter.runCommandSteps)")
            }
            return try await commandStep.run(job)
        }
        if let handler = handler ?? fallback { return try await handler(job) }
        throw UnrecoverableError("no handler for job name '\(job.name)' (job \(job.id))")
    }
}
