import Logging
import NIOConcurrencyHelpers

extension Worker {
    /// What the worker knows of the locks of its active jobs, shared by the renewals and the lock watch.
    struct LockBook: Sendable {
        /// Per job, the latest moment its lock can still exist: `lockDuration` after the last renewal reply, or
        /// after the job was first seen here (it was locked before that).
        var deadlines: [String: ContinuousClock.Instant] = [:]
        /// Jobs whose attempt was already stopped for a lost lock (reported once).
        var stopped: Set<String> = []
    }

    /// Renews the locks of all active jobs every half `lockDuration` (one script call for all of them) and runs the
    /// stalled check every `stalledInterval`, until run() cancels it after the last slot has returned. Beside it, a
    /// lock watch stops attempts whose locks have surely expired while renewals could not get through.
    func maintenanceLoop() async {
        let book = NIOLockedValueBox(LockBook())
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.watchLocks(book) }
            group.addTask { await self.renewAndCheck(book) }
            await group.next()
            group.cancelAll()
        }
    }

    private func renewAndCheck(_ book: NIOLockedValueBox<LockBook>) async {
        let renewEvery = options.lockDuration / 2
        let clock = ContinuousClock()
        var nextStalledCheck = clock.now
        while !Task.isCancelled {
            if clock.now >= nextStalledCheck && !isClosing {
                await checkStalledJobs()
                nextStalledCheck = clock.now + options.stalledInterval
            }
            // While closing there are no stalled checks: only renewals pace the loop.
            let pause = isClosing ? renewEvery : min(renewEvery, nextStalledCheck - clock.now + .milliseconds(1))
            do {
                try await Task.sleep(for: pause)
            } catch {
                return  // cancelled: run() is over
            }
            await renewLocks(book)
        }
    }

    /// Stops the attempts of jobs whose lock deadline has passed: a renewal is stuck (Redis unreachable or not
    /// answering, the worker waiting to reconnect), so the lock has expired and the job may run again elsewhere.
    private func watchLocks(_ book: NIOLockedValueBox<LockBook>) async {
        let period = min(options.lockDuration / 4, .seconds(1))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: period)
            } catch {
                return
            }
            let active = state.withLockedValue { $0.active }
            let now = ContinuousClock.now
            let expired = book.withLockedValue { book -> [String] in
                book.deadlines = book.deadlines.filter { active[$0.key] != nil }
                book.stopped = book.stopped.filter { active[$0] != nil }
                for jobId in active.keys where book.deadlines[jobId] == nil {
                    book.deadlines[jobId] = now + options.lockDuration
                }
                let expired = book.deadlines.filter { $0.value < now && !book.stopped.contains($0.key) }.map(\.key)
                book.stopped.formUnion(expired)
                return expired
            }
            for jobId in expired {
                stopAttempt(jobId, "could not renew the lock of an active job before it expired; it may run again elsewhere, so its handler is cancelled")
            }
        }
    }

    /// Extends every active job's lock; reports the ones that were lost and cancels their handlers.
    ///
    /// A job whose lock is lost may already run again on another worker, so its attempt here must stop: a command
    /// step's process group is killed (SIGTERM, then SIGKILL after the step's kill grace), and whatever the
    /// handler returns can no longer be stored (the finishing script refuses a job without its lock).
    func renewLocks(_ book: NIOLockedValueBox<LockBook>) async {
        let active = state.withLockedValue { $0.active }
        guard !active.isEmpty else { return }
        var arguments: [RedisArgument] = [.string(keys.jobKeyPrefix), .integer(options.lockDuration.milliseconds)]
        for (jobId, token) in active {
            arguments.append(.string(jobId))
            arguments.append(.string(token))
        }
        do {
            let lost = try await client.run(
                QueueScripts.extendLocks.script, keys: QueueScripts.extendLocks.keys(for: keys), arguments: arguments)
            let lostIds = Set(lost.array?.compactMap(\.string) ?? [])
            let renewedUntil = ContinuousClock.now + options.lockDuration
            let newlyLost = book.withLockedValue { book -> [String] in
                for jobId in active.keys where !lostIds.contains(jobId) { book.deadlines[jobId] = renewedUntil }
                let newlyLost = lostIds.filter { active[$0] != nil && !book.stopped.contains($0) }
                book.stopped.formUnion(newlyLost)
                return Array(newlyLost)
            }
            for jobId in newlyLost where state.withLockedValue({ $0.active[jobId] != nil }) {
                stopAttempt(jobId, "lost the lock of an active job; it may run again elsewhere, so its handler is cancelled")
            }
        } catch {
            report(error, "renewing locks")
        }
    }

    /// Reports a lost lock and cancels the job's handler (a command step's process group is killed).
    private func stopAttempt(_ jobId: String, _ message: Logger.Message) {
        logger.warning(message, metadata: ["job": "\(jobId)"])
        eventSink.yield(.lockLost(jobId: jobId))
        state.withLockedValue { $0.handlerTasks[jobId] }?.cancel()
    }

    /// Moves jobs whose locks expired back to wait (at most one check per interval across all workers).
    func checkStalledJobs() async {
        do {
            let reply = try await client.run(
                QueueScripts.moveStalledJobsToWait.script, keys: QueueScripts.moveStalledJobsToWait.keys(for: keys),
                arguments: [
                    .string(keys.jobKeyPrefix), .integer(EpochClock.milliseconds()), .integer(Int64(options.maxStalledCount)),
                    .integer(options.stalledInterval.milliseconds),
                ])
            let ids = reply.array?.compactMap(\.string) ?? []
            if !ids.isEmpty {
                logger.warning("moved stalled jobs back to wait", metadata: ["jobs": "\(ids.joined(separator: ","))"])
                eventSink.yield(.stalled(jobIds: ids))
            }
        } catch {
            report(error, "checking for stalled jobs")
        }
    }
}
