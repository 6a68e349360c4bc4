/// A rate limit: at most `max` jobs started per `duration`, counted across every worker of the queue (a
/// worker's ``WorkerOptions/limiter``, or a queue's global rate limit).
public typealias RateLimit = WorkerOptions.RateLimit

extension WorkerOptions.RateLimit: CustomStringConvertible {
    /// `10/1000ms`.
    public var description: String { "\(max)/\(duration.milliseconds)ms" }
}

/// The limits every worker of a queue honours, kept in the queue's `meta` hash as BullMQ keeps them.
public struct QueueLimits: Sendable, Hashable {
    /// The most jobs of the queue active at once, across every worker (`meta.concurrency`).
    public var concurrency: Int?
    /// The most jobs started per window, across every worker (`meta.max`, `meta.duration`).
    public var rateLimit: RateLimit?
    /// While the queue is rate limited, how long until jobs may start again (the limiter key's TTL).
    public var rateLimitedFor: Duration?
}

extension Queue {
    /// Lets at most `concurrency` jobs of this queue be active at once across every worker, in every process and
    /// language (BullMQ's `setGlobalConcurrency`, `meta.concurrency`). A worker's own `concurrency` still applies;
    /// a job already running is never stopped.
    ///
    /// - Throws: ``QueueError`` `invalidOption` for a value below 1.
    public func setGlobalConcurrency(_ concurrency: Int) async throws {
        guard concurrency >= 1 else {
            throw QueueError(.invalidOption, "the global concurrency must be at least 1 (got \(concurrency))")
        }
        _ = try await client.send(RedisCommand("HSET", .string(keys.key(.meta)), "concurrency", .integer(Int64(concurrency))))
    }

    /// The global concurrency, or `nil` when none is set.
    public func getGlobalConcurrency() async throws -> Int? {
        try await client.send(RedisCommand("HGET", .string(keys.key(.meta)), "concurrency")).string.flatMap { Int($0) }
    }

    /// Removes the global concurrency. Returns whether one was set.
    @discardableResult
    public func removeGlobalConcurrency() async throws -> Bool {
        try await client.send(RedisCommand("HDEL", .string(keys.key(.meta)), "concurrency")).int == 1
    }

    /// Lets at most `limit.max` jobs of this queue start per `limit.duration`, across every worker (BullMQ's
    /// `setGlobalRateLimit`, `meta.max` and `meta.duration`). It takes precedence over a worker's own limiter
    /// max; a worker that has its own limiter keeps that limiter's duration, as in BullMQ.
    ///
    /// - Throws: ``QueueError`` `invalidOption` for a max below 1 or a duration below 1 ms.
    public func setGlobalRateLimit(_ limit: RateLimit) async throws {
        guard limit.max >= 1, limit.duration.milliseconds >= 1 else {
            throw QueueError(.invalidOption, "a global rate limit needs max >= 1 and a duration of at least 1 ms (got \(limit))")
        }
        _ = try await client.send(RedisCommand(
            "HSET", .string(keys.key(.meta)), "max", .integer(Int64(limit.max)),
            "duration", .integer(limit.duration.milliseconds)))
    }

    /// ``setGlobalRateLimit(_:)`` with a max and a duration.
    public func setGlobalRateLimit(max: Int, duration: Duration) async throws {
        try await setGlobalRateLimit(RateLimit(max: max, duration: duration))
    }

    /// The global rate limit, or `nil` when none is set (both fields are needed, as in BullMQ).
    public func getGlobalRateLimit() async throws -> RateLimit? {
        let reply = try await client.send(RedisCommand("HMGET", .string(keys.key(.meta)), "max", "duration"))
        guard let parts = reply.array, parts.count == 2, let max = parts[0].string.flatMap({ Int($0) }),
              let duration = parts[1].string.flatMap({ Int64($0) }) else { return nil }
        return RateLimit(max: max, duration: .milliseconds(duration))
    }

    /// Removes the global rate limit. Returns whether one was set.
    @discardableResult
    public func removeGlobalRateLimit() async throws -> Bool {
        (try await client.send(RedisCommand("HDEL", .string(keys.key(.meta)), "max", "duration")).int ?? 0) > 0
    }

    /// Holds every worker of the queue for `duration` (BullMQ's `rateLimit`): the limiter key is set to a count no
    /// limit reaches, expiring after `duration`. As in BullMQ, workers honour it only when a rate limit applies to
    /// them (their own limiter, or a global rate limit). A handler that hit an outside service's limit calls this,
    /// then throws ``RateLimitError`` to hand its job back without using an attempt; its own worker then holds
    /// all its slots for the remaining time, whatever limits apply.
    public func rateLimit(_ duration: Duration) async throws {
        let milliseconds = Swift.max(duration.milliseconds, 1)
        _ = try await client.send(RedisCommand(
            "SET", .string(keys.key(.limiter)), .integer(Self.rateLimitHold), "PX", .integer(milliseconds)))
    }

    /// The count ``rateLimit(_:)`` stores: 2^53 - 1, JavaScript's `Number.MAX_SAFE_INTEGER`, as BullMQ stores.
    static let rateLimitHold: Int64 = 9_007_199_254_740_991

    /// How long the queue stays rate limited: the limiter key's remaining time, `nil` when it has none.
    public func getRateLimitTtl() async throws -> Duration? {
        let ttl = try await client.send(RedisCommand("PTTL", .string(keys.key(.limiter)))).int ?? -2
        return ttl > 0 ? .milliseconds(ttl) : nil
    }

    /// Deletes the limiter key, ending a rate-limit window (or a ``rateLimit(_:)`` hold) at once. Returns whether
    /// it existed.
    @discardableResult
    public func removeRateLimitKey() async throws -> Bool {
        try await client.send(RedisCommand("DEL", .string(keys.key(.limiter)))).int == 1
    }

    /// The global concurrency, the global rate limit and the current rate-limit wait, read in one round trip.
    public func getLimits() async throws -> QueueLimits {
        let replies = try await client.pipeline([
            RedisCommand("HMGET", .string(keys.key(.meta)), "concurrency", "max", "duration"),
            RedisCommand("PTTL", .string(keys.key(.limiter))),
        ])
        let fields = replies[0].array ?? []
        func number(_ index: Int) -> Int64? { fields.count > index ? fields[index].string.flatMap { Int64($0) } : nil }
        var limits = QueueLimits()
        limits.concurrency = number(0).map { Int($0) }
        if let max = number(1), let duration = number(2) {
            limits.rateLimit = RateLimit(max: Int(max), duration: .milliseconds(duration))
        }
        if let ttl = replies[1].int, ttl > 0 { limits.rateLimitedFor = .milliseconds(ttl) }
        return limits
    }
}
