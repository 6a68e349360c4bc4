extension Worker {
    /// Renews the locks of all active jobs every half `lockDuration` (one script call for all of them) and runs the
    /// stalled check every `stalledInterval`, until run() cancels it after the last slot has returned.
    func maintenanceLoop() async {
        let renewEvery = options.lockDuration / 2
        let clock = ContinuousClock()
        var nextStalledCheck = clock.now
        while !Task.isCancelled {
            if clock.now >= nextStalledCheck && !isClosing {
                await checkStalledJobs()
                nextStalledCheck = clock.now + options.stalledInterval
            }
            do {
                try await Task.sleep(for: min(renewEvery, nextStalledCheck - clock.now + .milliseconds(1)))
            } catch {
                return  // cancelled: run() is over
            }
            await renewLocks()
        }
    }

    /// Extends every active job's lock; reports the ones that were lost.
    func renewLocks() async {
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
            for jobId in lost.array?.compactMap(\.string) ?? [] where state.withLockedValue({ $0.active[jobId] != nil }) {
                logger.warning("lost the lock of an active job; it may run again elsewhere", metadata: ["job": "\(jobId)"])
                eventSink.yield(.lockLost(jobId: jobId))
            }
        } catch {
            report(error, "renewing locks")
        }
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
