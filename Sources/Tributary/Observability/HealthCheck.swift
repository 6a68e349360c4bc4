/// Liveness and readiness of a Tributary process, checked against its Redis server and queues, for `/healthz`
/// and `/readyz` style endpoints (the dashboard and `tributary worker --metrics-port` serve them).
///
/// - ``liveness()``: Redis answers `PING` within ``HealthThresholds/timeout``.
/// - ``readiness()``: liveness, plus the server's version is at least ``HealthThresholds/minimumServerVersion``
///   (Tributary's 6.2), its `maxmemory-policy` is `noeviction` (as BullMQ requires: any eviction policy may delete
///   queue keys), at least ``HealthThresholds/minimumWorkers`` workers are connected to each of ``queues``, and the
///   queues are under the optional thresholds on failed, waiting and active jobs.
///
/// Neither call throws: a failure becomes a failed check with its reason. Every Redis call is bounded by the
/// timeout, so a stopped or unreachable server makes the report unhealthy within it.
///
/// ```swift
/// let health = HealthCheck(client: client, queues: ["emails"],
///                          thresholds: .init(maximumFailed: 1000, maximumActive: 100))
/// let report = await health.readiness()
/// respond(status: report.httpStatus, body: report.json())
/// ```
public struct HealthCheck: Sendable {
    /// The connection checked (a fail-fast client answers at once while Redis is down).
    public let client: RedisClient
    /// The queues whose workers and job counts readiness checks.
    public let queues: [String]
    /// The key prefix of those queues.
    public let prefix: String
    /// The timeout and the limits.
    public let thresholds: HealthThresholds

    /// Creates a health check; nothing is read until ``liveness()`` or ``readiness()``.
    public init(client: RedisClient, queues: [String] = [], prefix: String = "bull", thresholds: HealthThresholds = .init()) {
        self.client = client
        self.queues = queues
        self.prefix = prefix
        self.thresholds = thresholds
    }

    /// Whether Redis answers `PING` within the timeout.
    public func liveness() async -> HealthReport {
        HealthReport(kind: .liveness, checks: [await ping()])
    }

    /// Liveness, the server's version and memory policy, the workers of each queue and the job-count thresholds.
    /// When Redis does not answer the ping, the other checks are not attempted.
    public func readiness() async -> HealthReport {
        let ping = await ping()
        guard ping.ok else { return HealthReport(kind: .readiness, checks: [ping]) }
        var checks = [ping, await serverVersion(), await memoryPolicy()]
        for name in queues {
            checks += await queueChecks(name)
        }
        return HealthReport(kind: .readiness, checks: checks)
    }

    // MARK: The checks

    private func ping() async -> HealthCheckResult {
        let clock = ContinuousClock()
        let start = clock.now
        switch await bounded({ try await client.send(RedisCommand("PING")) }) {
        case .success(let reply):
            let elapsed = clock.now - start
            guard reply.string == "PONG" else {
                return HealthCheckResult(name: "redis", ok: false, detail: "PING answered \(reply), not PONG")
            }
            return HealthCheckResult(name: "redis", ok: true, detail: "PONG in \(Self.milliseconds(elapsed)) ms")
        case .failure(let reason):
            return HealthCheckResult(name: "redis", ok: false,
                                     detail: "Redis at \(client.configuration.endpoint) did not answer PING: \(reason)")
        }
    }

    private func serverVersion() async -> HealthCheckResult {
        let minimum = thresholds.minimumServerVersion.map(String.init).joined(separator: ".")
        switch await bounded({ try await client.send(RedisCommand("INFO", "server")) }) {
        case .success(let reply):
            do {
                let version = try RedisClient.parseVersion(info: reply.string ?? "")
                let text = version.map(String.init).joined(separator: ".")
                if version.lexicographicallyPrecedes(thresholds.minimumServerVersion) {
                    return HealthCheckResult(name: "redis-version", ok: false,
                                             detail: "Redis \(text) is too old: Tributary needs \(minimum) or newer")
                }
                return HealthCheckResult(name: "redis-version", ok: true, detail: "\(text) (\(minimum) or newer needed)")
            } catch {
                return HealthCheckResult(name: "redis-version", ok: false, detail: "\(error)")
            }
        case .failure(let reason):
            return HealthCheckResult(name: "redis-version", ok: false, detail: "INFO server failed: \(reason)")
        }
    }

    private func memoryPolicy() async -> HealthCheckResult {
        let name = "maxmemory-policy"
        switch await bounded({ try await client.send(RedisCommand("CONFIG", "GET", "maxmemory-policy")) }) {
        case .success(let reply):
            guard let pair = reply.array, pair.count == 2, let policy = pair[1].string else {
                return HealthCheckResult(name: name, ok: false, detail: "CONFIG GET maxmemory-policy returned \(reply)")
            }
            if policy == "noeviction" { return HealthCheckResult(name: name, ok: true, detail: "noeviction") }
            return HealthCheckResult(
                name: name, ok: false,
                detail: "'\(policy)': set maxmemory-policy to noeviction, or Redis may evict job and queue keys under memory pressure")
        case .failure(let reason):
            let ok = thresholds.allowUnreadablePolicy
            return HealthCheckResult(
                name: name, ok: ok,
                detail: "could not be read (\(reason)); make sure it is noeviction"
                    + (ok ? "" : ", or set allowUnreadablePolicy where CONFIG is not allowed"))
        }
    }

    private func queueChecks(_ name: String) async -> [HealthCheckResult] {
        let queue: Queue
        do {
            queue = try Queue(name, client: client, prefix: prefix)
        } catch {
            return [HealthCheckResult(name: "queue:\(name)", ok: false, detail: "\(error)")]
        }
        var checks: [HealthCheckResult] = []
        if thresholds.minimumWorkers > 0 {
            switch await bounded({ try await queue.getWorkers().count }) {
            case .success(let count):
                let ok = count >= thresholds.minimumWorkers
                checks.append(HealthCheckResult(
                    name: "workers:\(name)", ok: ok,
                    detail: "\(count) worker connection\(count == 1 ? "" : "s") (CLIENT LIST)"
                        + (ok ? "" : "; at least \(thresholds.minimumWorkers) needed")))
            case .failure(let reason):
                checks.append(HealthCheckResult(name: "workers:\(name)", ok: false,
                                                detail: "CLIENT LIST failed: \(reason)"))
            }
        }
        let limits: [(String, Int?, (JobCounts) -> Int)] = [
            ("failed", thresholds.maximumFailed, { $0.failed }),
            ("waiting", thresholds.maximumWaiting, { $0.waiting + $0.paused + $0.prioritized }),
            ("active", thresholds.maximumActive, { $0.active }),
        ]
        guard limits.contains(where: { $0.1 != nil }) else { return checks }
        switch await bounded({ try await queue.getJobCounts() }) {
        case .success(let counts):
            for (state, limit, count) in limits {
                guard let limit else { continue }
                let value = count(counts)
                checks.append(HealthCheckResult(
                    name: "\(state):\(name)", ok: value <= limit,
                    detail: "\(value) \(state) job\(value == 1 ? "" : "s") (at most \(limit))"))
            }
        case .failure(let reason):
            checks.append(HealthCheckResult(name: "jobs:\(name)", ok: false, detail: "counting jobs failed: \(reason)"))
        }
        return checks
    }

    // MARK: Bounding

    /// Runs `body`, waiting at most ``HealthThresholds/timeout`` for it; on timeout the work is cancelled and left
    /// to end by itself (a client waiting to reconnect may hold it), and the result says so.
    private func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async -> Result<T, HealthCheckFailure> {
        let timeout = thresholds.timeout
        let (stream, continuation) = AsyncStream.makeStream(of: Result<T, HealthCheckFailure>.self)
        let work = Task {
            do {
                continuation.yield(.success(try await body()))
            } catch {
                continuation.yield(.failure(HealthCheckFailure(message: "\(error)")))
            }
            continuation.finish()
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            continuation.yield(.failure(HealthCheckFailure(message: "no answer within \(Self.milliseconds(timeout)) ms")))
            continuation.finish()
        }
        defer {
            work.cancel()
            timer.cancel()
        }
        for await first in stream { return first }
        return .failure(HealthCheckFailure(message: "the check was cancelled"))
    }

    /// A duration in milliseconds with one decimal.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = seconds * 10_000 + attoseconds / 100_000_000_000_000
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// Why a bounded Redis call of a ``HealthCheck`` failed.
struct HealthCheckFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The timeout and the limits of a ``HealthCheck``. The limits on job counts are off unless set; the production
/// guide's example alerts at 1,000 failed and 100 active jobs.
public struct HealthThresholds: Sendable, Hashable {
    /// How long each Redis call may take before its check fails (2 s unless set).
    public var timeout: Duration
    /// The oldest acceptable Redis version (``RedisClient/minimumQueueServerVersion``, 6.2.0, unless set).
    public var minimumServerVersion: [Int]
    /// How many worker connections each queue needs for readiness, as ``Queue/getWorkers()`` finds them in
    /// `CLIENT LIST` (a running Tributary worker may hold more than one; 1 unless set; 0 skips the check, for
    /// example for a dashboard that only looks).
    public var minimumWorkers: Int
    /// Readiness fails when a queue holds more failed jobs than this.
    public var maximumFailed: Int?
    /// Readiness fails when a queue holds more jobs waiting to start (waiting, paused and prioritized) than this.
    public var maximumWaiting: Int?
    /// Readiness fails when a queue has more active jobs than this.
    public var maximumActive: Int?
    /// Whether a `maxmemory-policy` that cannot be read (CONFIG not allowed, as on some hosted services) passes
    /// (true unless set).
    public var allowUnreadablePolicy: Bool

    /// Creates thresholds; each parameter defaults to the value documented on its property.
    public init(timeout: Duration = .seconds(2), minimumServerVersion: [Int] = RedisClient.minimumQueueServerVersion,
                minimumWorkers: Int = 1, maximumFailed: Int? = nil, maximumWaiting: Int? = nil,
                maximumActive: Int? = nil, allowUnreadablePolicy: Bool = true) {
        self.timeout = timeout
        self.minimumServerVersion = minimumServerVersion
        self.minimumWorkers = minimumWorkers
        self.maximumFailed = maximumFailed
        self.maximumWaiting = maximumWaiting
        self.maximumActive = maximumActive
        self.allowUnreadablePolicy = allowUnreadablePolicy
    }
}
