/// Throw from a handler when the work hit a rate limit (an outside service said "too many requests"): the worker
/// puts the job back at the front of the wait list without using an attempt, as BullMQ's
/// `Worker.RateLimitError` does, and every slot of the worker waits until the queue's rate-limit window ends. Set the window first
/// with ``Queue/rateLimit(_:)`` or ``Worker/rateLimit(_:)``, or in one step with ``Job/rateLimitQueue(for:)``.
public struct RateLimitError: Error, Sendable, CustomStringConvertible {
    /// The error to throw; it carries nothing, the queue's rate-limit window says how long to wait.
    public init() {}
    public var description: String { "rate limit reached: the job goes back to wait" }
}

extension Worker {
    /// Holds every worker of this worker's queue for `duration` (BullMQ's `worker.rateLimit`): see
    /// ``Queue/rateLimit(_:)``. Workers honour it when a rate limit applies to them (``WorkerOptions/limiter`` or a
    /// global rate limit), as in BullMQ.
    public func rateLimit(_ duration: Duration) async throws {
        try await queue.rateLimit(duration)
    }

    /// Puts a job whose handler threw ``RateLimitError`` back in wait (moveJobFromActiveToWait.lua) and returns
    /// how long the rate limit still holds.
    func handBack(_ job: Job, token: String) async throws -> Duration {
        // Held from before the job is back in wait, so that no other slot of this worker takes it again before the
        // limit's remaining time is known.
        holdSlots(for: .seconds(5))
        let script = QueueScripts.moveJobFromActiveToWait
        let reply = try await client.run(
            script.script, keys: script.keys(for: keys),
            arguments: [.string(keys.jobKeyPrefix), .string(job.id), .string(token)])
        forget(job, token: token)
        guard let code = reply.int else {
            holdSlots(for: .zero)
            throw QueueError(.unexpectedScriptResult, "moveJobFromActiveToWait returned \(reply) for job \(job.id)")
        }
        switch code {
        case -1:
            holdSlots(for: .zero)
            throw QueueError(.jobNotFound, "job \(job.id) could not go back to wait: it no longer exists")
        case -2, -6:
            holdSlots(for: .zero)
            eventSink.yield(.lockLost(jobId: job.id))
            throw QueueError(.jobNotInState, "job \(job.id) could not go back to wait: its lock was lost")
        default: return .milliseconds(Swift.max(code, 0))
        }
    }

    /// Holds every slot of this worker for `wait` (a handler threw ``RateLimitError``), as BullMQ's worker-wide
    /// `limitUntil` does; replaces any hold set before.
    func holdSlots(for wait: Duration) {
        let until = ContinuousClock.now + wait
        state.withLockedValue { $0.rateLimitedUntil = until }
    }

    /// What is left of a hold set by ``holdSlots(for:)``, or `nil`.
    func remainingRateLimitHold() -> Duration? {
        state.withLockedValue { state in
            guard let until = state.rateLimitedUntil else { return nil }
            let left = until - ContinuousClock.now
            if left <= .zero {
                state.rateLimitedUntil = nil
                return nil
            }
            return left
        }
    }

    /// Waits out a rate limit in short steps, so that close() is not held up.
    func waitOutRateLimit(_ wait: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now + wait
        while !isClosing, clock.now < end {
            try? await Task.sleep(for: Swift.min(end - clock.now, .milliseconds(250)))
        }
    }
}

extension Job {
    /// Holds every worker of the job's queue for `duration` (``Queue/rateLimit(_:)``), then throws
    /// ``RateLimitError`` so that this job goes back to wait without using an attempt: let it propagate.
    public func rateLimitQueue(for duration: Duration) async throws -> Never {
        try await runningHandle("rateLimitQueue").queue.rateLimit(duration)
        throw RateLimitError()
    }
}
