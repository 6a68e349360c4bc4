import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Takes jobs from a BullMQ-compatible queue and runs a handler on each, `concurrency` at a time.
///
/// ```swift
/// let client = try await RedisClient.connect(url: "redis://127.0.0.1:6379", disconnectedBehavior: .waitForReconnect)
/// let worker = try Worker(queue: "emails", client: client, options: .init(concurrency: 10)) { job in
///     try await send(to: job.data["to"]?.stringValue ?? "")
///     return ["sent": true]
/// }
/// try await worker.run()          // until close() is called (for example from a SIGTERM handler)
/// ```
///
/// Each job is locked while it runs (the lock is renewed every half `lockDuration`); a job whose worker dies is
/// found by the stalled check and run again elsewhere. Finishing a job takes the next one in the same script, so a
/// busy worker costs one round trip per job. An idle worker blocks on the queue's marker on a connection of its
/// own, so a new job wakes it at once and a delayed job starts on time.
///
/// `Worker` is a ServiceLifecycle `Service`: in a `ServiceGroup` with `gracefulShutdownSignals: [.sigterm, .sigint]`,
/// SIGTERM or Ctrl-C stops it gracefully (no new jobs; running jobs finish).
public final class Worker: Service, Sendable {
    /// Runs one job; what it returns becomes the job's `returnvalue`.
    public typealias Handler = @Sendable (Job) async throws -> JSONValue

    /// The queue's Redis keys.
    public let keys: QueueKeys
    /// The connection the worker uses (configure it with `.waitForReconnect`).
    public let client: RedisClient
    /// The options the worker was created with.
    public let options: WorkerOptions
    /// What the worker reports while it runs, from the moment this is first read: a worker nobody reads does not
    /// build or buffer events. Read it before ``run()`` to see every event. One consumer at a time: every read
    /// returns the same stream, until the task iterating it is cancelled; then events are no longer produced and
    /// the next read starts a new stream. The newest 1,000 events are kept for a consumer that falls behind. The
    /// stream ends when ``run()`` returns.
    public var events: AsyncStream<WorkerEvent> { eventSink.stream }

    /// Chooses each job's handler by its name (see ``handle(_:_:)``).
    public let router: JobRouter
    let handler: Handler
    /// The queue, for the actions a handler takes on its job.
    let queue: Queue
    let logger: Logger
    let eventSink = WorkerEventHub()
    let workerID: String
    let state = NIOLockedValueBox(State())
    /// Sends the finishes of this worker's jobs, several in one call when they arrive together.
    let finishes: FinishBatcher
    /// The swift-metrics counters and timers of this worker's jobs.
    let instruments: WorkerInstruments

    struct State {
        var running = false
        var closing = false
        var paused = false
        /// Slots waiting for resume().
        var pausedSlots: [CheckedContinuation<Void, Never>] = []
        var tokenCounter = 0
        /// Active jobs: id → lock token.
        var active: [String: String] = [:]
        /// Handler tasks by job id, so a forced close can cancel them.
        var handlerTasks: [String: Task<JSONValue, any Error>] = [:]
        /// The task blocked on the marker, if any slot is blocking; its value is the job it took, if any.
        var blocker: Task<Job?, Never>?
        /// The worker's own client for blocking on the marker; its connections carry the worker's name, which is
        /// how ``Queue/getWorkers()`` (and BullMQ's) finds workers.
        var markerClient: RedisClient?
        /// Slots waiting for the blocker to wake them.
        var sleepers: [CheckedContinuation<Void, Never>] = []
        /// Called when run() has returned.
        var finishedWaiters: [CheckedContinuation<Void, Never>] = []
        var finished = false
        /// Set when a handler threw RateLimitError: no slot takes a job before then (BullMQ's `limitUntil`).
        var rateLimitedUntil: ContinuousClock.Instant?
    }

    /// Creates a worker that runs `handler` on every job (except jobs whose name has a handler of its own, see
    /// ``handle(_:_:)``); it takes no job until ``run()``.
    ///
    /// - Throws: ``QueueError`` `invalidQueueName`, or `invalidOption` for a concurrency below 1 or durations ≤ 0.
    public convenience init(queue: String, client: RedisClient, prefix: String = "bull", options: WorkerOptions = .init(),
                            logger: Logger = Logger(label: "tributary.worker"), handler: @escaping Handler) throws {
        try self.init(queue: queue, client: client, prefix: prefix, options: options, logger: logger,
                      router: JobRouter(fallback: handler))
    }

    /// Creates a worker that sends each job to the handler registered for its name with ``handle(_:_:)`` (see
    /// ``JobRouter``); it takes no job until ``run()``.
    ///
    /// - Throws: ``QueueError`` `invalidQueueName`, or `invalidOption` for a concurrency below 1 or durations ≤ 0.
    public init(queue: String, client: RedisClient, prefix: String = "bull", options: WorkerOptions = .init(),
                logger: Logger = Logger(label: "tributary.worker"), router: JobRouter = JobRouter()) throws {
        guard !queue.isEmpty, !queue.contains(":") else {
            throw QueueError(.invalidQueueName, "queue name '\(queue)' must be non-empty and must not contain ':'")
        }
        guard options.concurrency >= 1 else { throw QueueError(.invalidOption, "concurrency must be at least 1") }
        guard options.lockDuration > .zero, options.stalledInterval > .zero, options.drainDelay > .zero else {
            throw QueueError(.invalidOption, "lockDuration, stalledInterval and drainDelay must be positive")
        }
        if let name = options.name, name.isEmpty || name.contains(where: { $0 == " " || $0.isNewline }) {
            throw QueueError(.invalidOption, "worker name '\(name)' must be non-empty, without spaces or newlines")
        }
        if let limiter = options.limiter, limiter.max < 1 || limiter.duration <= .zero {
            throw QueueError(.invalidOption, "limiter.max must be at least 1 and limiter.duration positive")
        }
        self.keys = QueueKeys(prefix: prefix, queueName: queue)
        self.queue = try Queue(queue, client: client, prefix: prefix, limits: options.limits, cipher: options.cipher,
                               logger: logger)
        self.client = client
        let script = QueueScripts.moveToFinished
        let finishKeys = script.keys(for: keys)
        if let metrics = options.metrics {
            guard metrics.maxDataPoints >= 1 else { throw QueueError(.invalidOption, "metrics.maxDataPoints must be at least 1") }
            // One extra argument per call turns the per-minute counts on (see moveToFinished.lua).
            let points = RedisArgument.string(String(metrics.maxDataPoints))
            self.finishes = FinishBatcher { arguments, _ in
                try await client.run(script.script, keys: finishKeys, arguments: arguments + [points])
            }
        } else {
            self.finishes = FinishBatcher { arguments, _ in
                try await client.run(script.script, keys: finishKeys, arguments: arguments)
            }
        }
        self.options = options
        self.instruments = WorkerInstruments(queue: queue, factory: options.metricsFactory)
        self.router = router
        self.handler = { job in try await router.route(job) }
        self.workerID = RandomID.hex32()
        var logger = logger
        logger[metadataKey: "queue"] = .string(queue)
        self.logger = logger
    }

    /// Takes and runs jobs until ``close(timeout:)`` is called or the calling task is cancelled.
    ///
    /// - Throws: ``RedisClientError`` if the server cannot hold queues (see ``RedisClient/checkQueueRequirements()``).
    public func run() async throws {
        let alreadyRunning = state.withLockedValue { state in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { throw QueueError(.invalidOption, "the worker is already running") }
        do {
            try await client.checkQueueRequirements()
            var configuration = client.configuration
            configuration.clientName = keys.workerClientName(workerName: options.name)
            configuration.disconnectedBehavior = .waitForReconnect
            let markerClient = try await RedisClient.connect(configuration, eventLoopGroup: client.eventLoopGroup, logger: client.logger)
            state.withLockedValue { $0.markerClient = markerClient }
        } catch {
            finishRun()
            throw error
        }
        logger.info("worker started", metadata: ["concurrency": "\(options.concurrency)", "worker": "\(workerID)"])
        await withGracefulShutdownHandler {
            await runSlots()
        } onGracefulShutdown: {
            self.logger.info("graceful shutdown requested: finishing active jobs")
            self.beginClosing()
        }
        await state.withLockedValue({ $0.markerClient })?.close()
        finishRun()
        logger.info("worker stopped")
    }

    /// Marks the run as over and wakes everyone waiting in close().
    private func finishRun() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.finished = true
            state.running = false
            defer { state.finishedWaiters = [] }
            return state.finishedWaiters
        }
        for waiter in waiters { waiter.resume() }
        eventSink.finish()
    }

    private func runSlots() async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Bool.self) { group in
                group.addTask { await self.maintenanceLoop(); return false }
                for _ in 0..<options.concurrency {
                    group.addTask { await self.slotLoop(); return true }
                }
                // Locks are renewed until the last slot has returned; only then does maintenance stop.
                var slotsLeft = options.concurrency
                while slotsLeft > 0, let isSlot = await group.next() {
                    if isSlot { slotsLeft -= 1 }
                }
                group.cancelAll()
            }
        } onCancel: {
            // Cancelled from outside (a ServiceGroup past its graceful timeout): stop like close(force: true).
            self.beginClosing()
            self.cancelHandlers()
        }
    }

    /// Stops taking jobs, waits up to `timeout` for running jobs to finish, then cancels the rest (their locks
    /// expire and the stalled check hands them to another worker). Returns once ``run()`` has returned.
    public func close(timeout: Duration = .seconds(30)) async {
        beginClosing()
        let finished = Task { await self.waitUntilFinished() }
        let deadline = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self.cancelHandlers() }
        }
        await finished.value
        deadline.cancel()
    }

    /// Stops at once: cancels running handlers without waiting (their jobs stall and run again elsewhere).
    public func close(force: Bool) async {
        guard force else { return await close() }
        beginClosing()
        cancelHandlers()
        await waitUntilFinished()
    }

    var isClosing: Bool { state.withLockedValue { $0.closing } }

    /// Whether this worker is paused (see ``pause()``).
    public var isPaused: Bool { state.withLockedValue { $0.paused } }

    /// Stops this worker taking new jobs (other workers of the queue go on) and returns once its running jobs have
    /// finished. To pause the whole queue for every worker, use ``Queue/pause()``.
    public func pause() async {
        let blocker = state.withLockedValue { state -> Task<Job?, Never>? in
            state.paused = true
            return state.blocker
        }
        blocker?.cancel()
        while state.withLockedValue({ !$0.active.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Lets a paused worker take jobs again.
    public func resume() {
        let slots = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.paused = false
            defer { state.pausedSlots = [] }
            return state.pausedSlots
        }
        for slot in slots { slot.resume() }
    }

    /// Waits while the worker is paused (and not closing).
    private func waitWhilePaused() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let goOn = state.withLockedValue { state -> Bool in
                guard state.paused && !state.closing else { return true }
                state.pausedSlots.append(continuation)
                return false
            }
            if goOn { continuation.resume() }
        }
    }

    func beginClosing() {
        let (blocker, sleepers) = state.withLockedValue { state in
            state.closing = true
            defer { state.sleepers = []; state.pausedSlots = [] }
            return (state.blocker, state.sleepers + state.pausedSlots)
        }
        blocker?.cancel()
        for sleeper in sleepers { sleeper.resume() }
    }

    private func cancelHandlers() {
        for task in state.withLockedValue({ Array($0.handlerTasks.values) }) { task.cancel() }
    }

    private func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLockedValue { state -> Bool in
                if state.finished || !state.running { return true }
                state.finishedWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Taking jobs

    /// One unit of concurrency: take a job, run it, and keep going with the next job the finish step returned.
    private func slotLoop() async {
        var next: Job?
        // A job already taken (by a finish step that raced with close) is processed before the slot stops.
        while next != nil || !isClosing {
            if next == nil && isPaused {
                await waitWhilePaused()
                continue
            }
            if next == nil {
                do {
                    next = try await takeJob()
                } catch {
                    report(error, "taking a job")
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            guard let job = next else { continue }
            next = await process(job)
        }
    }

    /// Takes the next job, or waits for work and returns `nil`.
    private func takeJob() async throws -> Job? {
        if let hold = remainingRateLimitHold() {
            await waitOutRateLimit(hold)
            return nil
        }
        let token = nextToken()
        let reply = try await client.run(
            QueueScripts.moveToActive.script, keys: QueueScripts.moveToActive.keys(for: keys),
            arguments: fetchArguments(token: token))
        switch try decodeFetch(reply, token: token) {
        case .job(let job):
            // There may be more: let one sleeping slot look (it blocks on the marker if there is nothing).
            wakeOneSleeper()
            return job
        case .rateLimited(let ttl):
            try? await Task.sleep(for: min(ttl, .seconds(1)))  // short steps, so close() is not held up
        case .empty(let nextDelayedAt):
            if let job = await waitForWork(nextDelayedAt: nextDelayedAt) {
                wakeOneSleeper()
                return job
            }
        }
        return nil
    }

    enum Fetch {
        case job(Job)
        case rateLimited(Duration)
        case empty(nextDelayedAt: Int64)
    }

    /// The ARGV tail shared by moveToActive and moveToFinished's fetch: now, token, lock, limiter, name. With
    /// `serverTime`, `now` is left empty and the script reads Redis's clock: for a fetch that waits behind a blocked
    /// BZPOPMIN before it runs.
    func fetchArguments(token: String, serverTime: Bool = false) -> [RedisArgument] {
        [
            .string(keys.jobKeyPrefix), serverTime ? .string("") : .integer(EpochClock.milliseconds()), .string(token),
            .integer(options.lockDuration.milliseconds), .integer(Int64(options.limiter?.max ?? 0)),
            .integer(options.limiter?.duration.milliseconds ?? 0), .string(options.name ?? ""),
        ]
    }

    /// Reads `{fields, jobId, rateLimitTtl, nextDelayedAt[, inputs]}` and registers a taken job as active.
    func decodeFetch(_ reply: RESPValue, token: String) throws -> Fetch {
        guard let parts = reply.array, parts.count == 4 || parts.count == 5 else {
            throw QueueError(.unexpectedScriptResult, "a job fetch returned \(reply)")
        }
        if let id = parts[1].string, case .bulkString = parts[1] {
            var job = Job(id: id, queue: keys, flatFields: parts[0].array ?? [])
                ?? Job(id: id, queue: keys, fields: [:])
            if parts.count == 5 { job.prefetchedInputs = FlowInputReads(reply: parts[4]) }
            state.withLockedValue { $0.active[id] = token }
            return .job(job)
        }
        if let ttl = parts[2].int, ttl > 0 { return .rateLimited(.milliseconds(ttl)) }
        return .empty(nextDelayedAt: Int64(parts[3].int ?? 0))
    }

    /// Blocks until the marker says a job is ready or a delayed job is due, or `drainDelay` passes, and returns the
    /// job the blocking slot took, if any. Only one slot blocks on Redis; the others sleep until a slot that found a
    /// job wakes one of them (one at a time, so a single new job costs one fetch, and a burst wakes the slots one
    /// after another).
    private func waitForWork(nextDelayedAt: Int64) async -> Job? {
        let role: Task<Job?, Never>? = state.withLockedValue { state in
            guard !state.closing, state.blocker == nil else { return nil }
            let task = Task { await self.blockOnMarker(nextDelayedAt: nextDelayedAt) }
            state.blocker = task
            return task
        }
        if let role {
            let job = await role.value
            // The sleepers stay asleep: this slot wakes one of them only if it got a job.
            // Waking all of them sent `concurrency` fetch scripts per new job to Redis.
            state.withLockedValue { $0.blocker = nil }
            return job
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let wakeNow = state.withLockedValue { state -> Bool in
                if state.closing || state.blocker == nil { return true }
                state.sleepers.append(continuation)
                return false
            }
            if wakeNow { continuation.resume() }
        }
        return nil
    }

    /// Wakes one slot waiting in ``waitForWork(nextDelayedAt:)``, if any.
    private func wakeOneSleeper() {
        let sleeper = state.withLockedValue { state in state.sleepers.isEmpty ? nil : state.sleepers.removeFirst() }
        sleeper?.resume()
    }

    /// How a slot with nothing to take waits: blocking on the marker for `block` (nil: not at all), then sleeping
    /// until `dueAt` (ms since 1970) if the marker stayed empty.
    struct MarkerWait: Equatable {
        var block: Duration?
        var dueAt: Int64?
    }

    /// Redis checks the timeouts of blocked commands on its cron tick, every 1000/hz ms (100 ms with the default
    /// hz 10), so a BZPOPMIN times out up to that late.
    static let blockTimeoutGranularity: Int64 = 100

    /// The wait before the next delayed job is due: block on the marker until one granularity step before it, then
    /// sleep the rest locally, so the job starts on time instead of up to 100 ms late.
    static func markerWait(nextDelayedAt: Int64, now: Int64, drainDelay: Duration) -> MarkerWait {
        guard nextDelayedAt > 0, nextDelayedAt - now < drainDelay.milliseconds else { return MarkerWait(block: drainDelay) }
        let untilDue = max(nextDelayedAt - now, 0)
        let blocking = untilDue - blockTimeoutGranularity
        return MarkerWait(block: blocking > 0 ? .milliseconds(blocking) : nil, dueAt: nextDelayedAt)
    }

    /// Blocks on the marker with a fetch queued behind the block on the same connection: Redis runs moveToActive
    /// the moment BZPOPMIN returns, so a job added to an idle queue reaches its handler after one trip from Redis
    /// instead of two. Returns the job taken, if any.
    private func blockOnMarker(nextDelayedAt: Int64) async -> Job? {
        let wait = Self.markerWait(nextDelayedAt: nextDelayedAt, now: EpochClock.milliseconds(), drainDelay: options.drainDelay)
        guard let timeout = wait.block else {
            await sleepUntil(wait.dueAt)
            return nil
        }
        // BZPOPMIN takes seconds; Redis 7 accepts fractions down to 1 ms.
        let seconds = max(Double(timeout.milliseconds) / 1000, 0.001)
        let markerClient = state.withLockedValue { $0.markerClient } ?? client
        let token = nextToken()
        let fetch = QueueScripts.moveToActive
        let commands = [
            RedisCommand("BZPOPMIN", .string(keys.key(.marker)), .double(seconds)),
            fetch.script.command(keys: fetch.keys(for: keys), arguments: fetchArguments(token: token, serverTime: true)),
        ]
        let watchdog = timeout + .seconds(3)
        do {
            // A watchdog: on a half-open connection the reply would never come. Cancelling the send closes its
            // dedicated connection, and the next wait opens a new one.
            let replies = try await withThrowingTaskGroup(of: [RESPValue].self) { group in
                group.addTask { try await markerClient.sendBlocking(commands) }
                group.addTask {
                    try await Task.sleep(for: watchdog)
                    throw RedisClientError(.connectionClosed, "no reply to BZPOPMIN within \(watchdog); reconnecting")
                }
                defer { group.cancelAll() }
                return try await group.next() ?? []
            }
            // The fetch ran whatever BZPOPMIN answered (a delayed job may have come due meanwhile). An error reply
            // (NOSCRIPT after a script flush) leaves the taking to the slot's next fetch, which loads the script.
            if replies.count == 2, case .array = replies[1], case .job(let job) = try decodeFetch(replies[1], token: token) {
                return job
            }
            // Timed out with nothing on the marker: the delayed job is due within a granularity step.
            if replies.first?.isNull == true { await sleepUntil(wait.dueAt) }
        } catch {
            if !isClosing && !isPaused && !Task.isCancelled {
                report(error, "waiting for jobs")
                try? await Task.sleep(for: .seconds(1))
            }
        }
        return nil
    }

    /// Sleeps until `dueAt` (ms since 1970), at most one block-timeout step; returns early when closing or paused.
    private func sleepUntil(_ dueAt: Int64?) async {
        guard let dueAt else { return }
        let remaining = min(dueAt - EpochClock.milliseconds(), Self.blockTimeoutGranularity)
        if remaining > 0, !isClosing, !isPaused { try? await Task.sleep(for: .milliseconds(remaining)) }
    }

    // MARK: Helpers

    func nextToken() -> String {
        let counter = state.withLockedValue { state -> Int in
            state.tokenCounter += 1
            return state.tokenCounter
        }
        return "\(workerID):\(counter)"
    }

    func report(_ error: any Error, _ doing: String) {
        logger.error("error while \(doing)", metadata: ["error": "\(error)"])
        eventSink.yield(.error("\(doing): \(error)"))
    }

}
