import Logging

extension Worker {
    /// Why an attempt did not complete.
    private struct AttemptFailure: Error {
        let reason: String
        let error: any Error
        /// Fail the job now, whatever attempts are left.
        let unrecoverable: Bool
    }

    /// Redis refused to complete a job: it has children still pending (-4) or a child failed with the
    /// `fail` policy (-9). The attempt fails instead, for good in the second case, as in BullMQ.
    struct CompletionRefused: Error, CustomStringConvertible {
        let code: Int64
        let jobId: String
        var unrecoverable: Bool { code == -9 }
        var description: String {
            code == -9 ? "job \(jobId) cannot complete: at least one of its children failed"
                : "job \(jobId) cannot complete: it still has pending children"
        }
    }

    /// The job's attempt ran past its `timeout` option.
    struct TimeoutError: Error, CustomStringConvertible {
        let timeout: Duration
        var description: String { "job timed out after \(timeout)" }
    }

    /// Runs one job to its end and returns the next job when the finish step fetched one.
    func process(_ job: Job) async -> Job? {
        // Built only when something is logged: setting metadata makes StreamLogHandler re-render it (~1.5 us a job).
        lazy var logger: Logger = {
            var logger = self.logger
            logger[metadataKey: "job"] = .string(job.id)
            logger[metadataKey: "jobName"] = .string(job.name)
            return logger
        }()
        guard let token = state.withLockedValue({ $0.active[job.id] }) else {
            report(QueueError(.jobNotInState, "job \(job.id) was handed to a slot without a lock token"), "processing")
            return nil
        }
        var job = job
        job.handle = JobHandle(queue: queue, token: token, events: eventSink)
        eventSink.yield(.active(job))
        let (instrument, startedAt) = instruments.started(job)
        if let schedulerId = job.fields["rjk"], !schedulerId.isEmpty {
            // A job scheduler's iteration: queue the next one first, as BullMQ's workers do.
            await queueNextIteration(of: job, schedulerId: schedulerId)
        }

        let outcome: Result<JSONValue, AttemptFailure>
        if let deferred = job.deferredFailure {
            outcome = .failure(AttemptFailure(reason: deferred, error: UnrecoverableError(deferred), unrecoverable: true))
        } else if let problem = job.problem {
            let reason = "job \(job.id) cannot be processed: \(problem)"
            outcome = .failure(AttemptFailure(reason: reason, error: UnrecoverableError(reason), unrecoverable: true))
        } else {
            do {
                try await job.loadInputs(client: client)
                try prepareEncryptedJob(&job)
                if try await skipUnlessConditionHolds(job, token: token) { return nil }
                let body: Handler
                if let holder = job.fields["flowDedupHolder"], !holder.isEmpty {
                    body = { job in try await DeduplicatedNodeRunner.run(job, holder: holder) }
                } else if job.fields["flowMap"] != nil {
                    let limits = options.limits
                    body = { job in try await MapNodeRunner.run(job, limits: limits) }
                } else if FlowScheduleRunner.isFiring(job) {
                    let (client, cipher) = (self.client, options.cipher)
                    body = { job in try await FlowScheduleRunner.run(job, client: client, cipher: cipher) }
                } else {
                    body = handler
                }
                outcome = await runHandler(job, body: body)
                instrument.duration.recordSince(startedAt)
            } catch let error as UnrecoverableError {
                outcome = .failure(AttemptFailure(reason: error.message, error: error, unrecoverable: true))
            } catch let error as FieldCipherError {
                // No retry: another attempt on this worker would not have the key either.
                let reason = "job \(job.id) cannot be processed: \(error.message)"
                outcome = .failure(AttemptFailure(reason: reason, error: error, unrecoverable: true))
            } catch {
                let reason = "job \(job.id): could not read the results of the nodes it needs: \(error)"
                outcome = .failure(AttemptFailure(reason: reason, error: error, unrecoverable: false))
            }
        }

        do {
            switch outcome {
            case .success(let value):
                let text: String
                do {
                    text = try storedResult(value, of: job)
                } catch let error as FieldCipherError {
                    let failure = AttemptFailure(reason: "job \(job.id): \(error.message)", error: error, unrecoverable: true)
                    return try await fail(job, token: token, failure: failure, logger: logger)
                }
                do {
                    try DataLimits.check(text.utf8.count, against: options.limits.returnValueBytes, "the result of job \(job.id)",
                                         setting: "DataLimits.returnValueBytes, --max-result", consequence: "the job failed")
                } catch let error as QueueError {
                    let failure = AttemptFailure(reason: error.message, error: error, unrecoverable: true)
                    return try await fail(job, token: token, failure: failure, logger: logger)
                }
                let next: Job?
                do {
                    next = try await finish(job, token: token, target: "completed", value: text, stacktrace: "")
                } catch let refused as CompletionRefused {
                    let failure = AttemptFailure(reason: refused.description, error: refused,
                                                 unrecoverable: refused.unrecoverable)
                    return try await fail(job, token: token, failure: failure, logger: logger)
                }
                if self.logger.logLevel <= .debug { logger.debug("job completed") }
                instrument.completed.increment()
                eventSink.yield(.completed(job, value))
                return next
            case .failure(let failure) where failure.error is DelayedError:
                // The handler moved its job to delayed itself: nothing left to do but forget it.
                logger.debug("job moved to delayed by its handler")
                forget(job, token: token)
                return nil
            case .failure(let failure) where failure.error is RateLimitError:
                // The handler hit a rate limit: the job goes back to wait, no attempt used; this slot waits.
                let wait = try await handBack(job, token: token)
                logger.debug("job handed back: rate limited", metadata: ["wait": "\(wait)"])
                await waitOutRateLimit(wait)
                return nil
            case .failure(let failure) where failure.error is WaitingChildrenError:
                // The handler moved its job to waiting-children; it runs again once its children are done.
                logger.debug("job moved to waiting-children by its handler")
                forget(job, token: token)
                return nil
            case .failure(let failure) where failure.error is CancellationError && isClosing:
                // Interrupted by close(timeout:) or close(force:): not the job's fault, so no attempt is counted.
                // Its lock expires and the stalled check gives it to another worker, as in BullMQ.
                logger.warning("job interrupted by the worker closing; it will be re-run after its lock expires")
                forget(job, token: token)
                return nil
            case .failure(let failure):
                return try await fail(job, token: token, failure: failure, logger: logger)
            }
        } catch {
            forget(job, token: token)
            report(error, "finishing job \(job.id)")
            return nil
        }
    }

    /// Decrypts the job's encrypted fields and inputs for the handler, and checks that its result can be sealed.
    ///
    /// - Throws: ``FieldCipherError`` naming the field and key id (the job fails at once, without retries).
    private func prepareEncryptedJob(_ job: inout Job) throws {
        try job.decryptForHandler(with: options.cipher)
        if job.encryptsResult, options.cipher == nil {
            throw FieldCipherError(.noKeys, "it asks for its result to be encrypted (encryptResult) and this worker has "
                + "no keys: set TRIBUTARY_KEYS or TRIBUTARY_KEYS_FILE (or WorkerOptions.cipher)")
        }
    }

    /// The text stored as the job's result: the value's JSON, sealed under `returnvalue` when the job asks for it.
    private func storedResult(_ value: JSONValue, of job: Job) throws -> String {
        guard job.encryptsResult else { return value.serialized() }
        guard let cipher = options.cipher else {
            throw FieldCipherError(.noKeys, "its result is to be encrypted (encryptResult) and this worker has no keys")
        }
        return try cipher.seal(value, path: EncryptedFieldPaths.result).serialized()
    }

    private func runHandler(_ job: Job, body handler: @escaping Handler) async -> Result<JSONValue, AttemptFailure> {
        let timeout = job.options.timeout
        let task = Task { () throws -> JSONValue in
            guard let timeout else { return try await handler(job) }
            return try await withThrowingTaskGroup(of: JSONValue.self) { group in
                group.addTask { try await handler(job) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw TimeoutError(timeout: timeout)
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
        state.withLockedValue { $0.handlerTasks[job.id] = task }
        defer { state.withLockedValue { _ = $0.handlerTasks.removeValue(forKey: job.id) } }
        do {
            return .success(try await task.value)
        } catch let error as UnrecoverableError {
            return .failure(AttemptFailure(reason: error.message, error: error, unrecoverable: true))
        } catch {
            return .failure(AttemptFailure(reason: Self.reason(for: error), error: error, unrecoverable: false))
        }
    }

    private static func reason(for error: any Error) -> String {
        if error is CancellationError { return "job was cancelled (worker closing)" }
        return "\(error)"
    }

    private func fail(_ job: Job, token: String, failure: AttemptFailure, logger: Logger) async throws -> Job? {
        let attemptsMade = job.attemptsMade + 1
        let attemptsLeft = !failure.unrecoverable && attemptsMade < job.options.effectiveAttempts
        let stacktrace = "\(type(of: failure.error)): \(failure.reason)"
        guard attemptsLeft else {
            logger.warning("job failed", metadata: ["reason": "\(failure.reason)", "attempts": "\(attemptsMade)"])
            let next = try await finish(job, token: token, target: "failed", value: failure.reason, stacktrace: stacktrace)
            instruments.handles(for: job.name).failed.increment()
            eventSink.yield(.failed(job, reason: failure.reason, willRetry: false))
            return next
        }
        let delay = job.options.backoff?.delay(attemptsMade: attemptsMade, error: failure.error, job: job,
                                               strategies: options.backoffStrategies) ?? .zero
        logger.info("job attempt failed; retrying", metadata: [
            "reason": "\(failure.reason)", "attempt": "\(attemptsMade)", "backoff": "\(delay)",
        ])
        let reply: RESPValue
        if delay > .zero {
            let now = EpochClock.milliseconds()
            reply = try await client.run(
                QueueScripts.moveToDelayed.script, keys: QueueScripts.moveToDelayed.keys(for: keys),
                arguments: [
                    .string(keys.jobKeyPrefix), .string(job.id), .integer(now), .integer(now + delay.milliseconds),
                    .string(token), .string(failure.reason), .string(stacktrace), "1",
                ])
        } else {
            reply = try await client.run(
                QueueScripts.retryJob.script, keys: QueueScripts.retryJob.keys(for: keys),
                arguments: [
                    .string(keys.jobKeyPrefix), .string(job.id), .string(token), .string(failure.reason),
                    .string(stacktrace), .string(job.options.lifo ? "RPUSH" : "LPUSH"),
                ])
        }
        if reply.int == -13 {
            // The job's flow run was cancelled: no retry; the attempt fails for good (the lock is still held).
            let reason = "\(failure.reason) (not retried: flow run \(job.flowRunId ?? "?") was cancelled)"
            return try await fail(job, token: token, failure: AttemptFailure(
                reason: reason, error: failure.error, unrecoverable: true), logger: logger)
        }
        forget(job, token: token)
        try checkStatus(reply, job: job, step: delay > .zero ? "moveToDelayed" : "retryJob")
        instruments.handles(for: job.name).retried.increment()
        eventSink.yield(.failed(job, reason: failure.reason, willRetry: true))
        return nil
    }

    /// Completes or fails a job for good with `moveToFinished.lua`, fetching the next job unless closing.
    private func finish(_ job: Job, token: String, target: String, value: String, stacktrace: String) async throws -> Job? {
        let retention = target == "completed" ? job.options.removeOnComplete : job.options.removeOnFail
        let (keepCount, keepAge) = retention.scriptArguments
        // No fetch while a RateLimitError hold is on: the slot waits it out in takeJob.
        let fetchNext = !isClosing && !isPaused && remainingRateLimitHold() == nil
        // The next job is locked with the same token, as BullMQ does; locks are per job key.
        let fetch = fetchArguments(token: token)
        let reply = try await finishes.finish([
            .string(keys.jobKeyPrefix), .string(job.id), fetch[1], .string(target), .string(value), .string(token),
            .integer(keepCount), .integer(keepAge), .string(fetchNext ? "1" : "0"), fetch[3], fetch[4], fetch[5],
            fetch[6], .integer(Int64(job.options.effectiveAttempts)), .string(stacktrace),
        ])
        if case .integer(let code) = reply, code == -4 || code == -9 {
            // The lock is still held: the caller fails the attempt instead.
            throw CompletionRefused(code: code, jobId: job.id)
        }
        forget(job, token: token)
        try checkStatus(reply, job: job, step: "moveToFinished")
        guard fetchNext, case .array = reply, case .job(let next) = try decodeFetch(reply, token: token) else {
            return nil
        }
        return next
    }

    /// Drops a job from the active map, unless another slot has re-taken it meanwhile (with another token).
    func forget(_ job: Job, token: String) {
        state.withLockedValue { state in
            if state.active[job.id] == token { state.active.removeValue(forKey: job.id) }
        }
    }

    /// Turns a script's negative status into an error naming the job and what happened.
    private func checkStatus(_ reply: RESPValue, job: Job, step: String) throws {
        guard case .integer(let code) = reply, code < 0 else { return }
        let meaning: String
        switch code {
        case -1: meaning = "the job no longer exists"
        case -2: meaning = "its lock was missing (it took longer than lockDuration without renewal and may run again)"
        case -3: meaning = "it was not in the active list"
        case -4: meaning = "it still has pending children"
        case -6: meaning = "another worker holds its lock"
        default: meaning = "status \(code)"
        }
        if code == -2 || code == -6 { eventSink.yield(.lockLost(jobId: job.id)) }
        throw QueueError(.unexpectedScriptResult, "\(step) refused job \(job.id): \(meaning)")
    }
}
