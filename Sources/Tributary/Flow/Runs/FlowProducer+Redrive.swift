/// What ``FlowProducer/retryFlowRun(_:)`` did.
public struct FlowRunRetry: Sendable, Equatable {
    /// Nodes sent back to run (queued, or waiting for their inputs).
    public let rerun: Int
    /// Nodes that keep their result and do not run again.
    public let kept: Int
    /// Active nodes left alone: they finish with the inputs they had.
    public let active: Int
}

/// The run did not settle within the time given to ``FlowProducer/waitForRun(_:timeout:jobs:)``.
public struct FlowRunWaitTimeout: Error, Sendable, CustomStringConvertible {
    /// The run as last read, with job summaries (``FlowRunJobDetail/summary``).
    public let run: FlowRun
    public var description: String { "flow run \(run.id) is still \(run.status.rawValue)" }
}

extension FlowProducer {
    /// The stream of run-finished events of this producer's prefix (`<prefix>:__flows__:events`); read it with
    /// `QueueEvents(queue: FlowProducer.runEventsQueue, client:prefix:)`.
    var runEventsKey: String { "\(prefix):\(Self.reservedQueueName):events" }

    /// The queue name whose events stream carries run-finished events (`run-completed`, `run-failed`,
    /// `run-cancelled`, with `runId`, `status` and node counts): pass it to ``QueueEvents``.
    public static var runEventsQueue: String { reservedQueueName }

    /// Redrives a run in one atomic step: every node that did not succeed runs again, and completed nodes keep
    /// their results.
    ///
    /// Failed nodes, nodes removed or cancelled (their jobs are stored again from the run record), nodes that
    /// wait for or were failed because of an input that failed, and every unfinished node that needs a node that
    /// runs again, go back to run with fresh attempts. Each waits in waiting-children until the nodes it needs
    /// that run again have completed, then runs with all its inputs. Completed and skipped nodes do not run
    /// again, unless a node that runs again needs a result that is gone (its job was removed by
    /// `removeOnComplete`): that node runs again to produce it. A cancelled run is resumed this way.
    ///
    /// Active nodes are left alone: they finish with the inputs they had; one that then fails needs another
    /// retry. Nothing is done (all counts but `rerun` reported) when no node needs to run again.
    ///
    /// - Throws: ``QueueError`` `runNotFound`; `flowRejected` when a node must be stored again but the run was
    ///   submitted before run records kept node specs (nothing is changed).
    @discardableResult
    public func retryFlowRun(_ runId: String) async throws -> FlowRunRetry {
        let reply = try await client.run(QueueScripts.retryFlowRun.script, keys: [],
                                         arguments: [.string(runKey(runId)), .integer(EpochClock.milliseconds())],
                                         routingKey: runKey(runId))
        if reply.int == -1 { throw QueueError(.runNotFound, "no flow run '\(runId)' under prefix '\(prefix)'") }
        guard let counts = reply.array, counts.count >= 2 else {
            throw QueueError(.unexpectedScriptResult, "retryFlowRun returned \(reply)")
        }
        if counts[0].int == -2 {
            throw QueueError(.flowRejected, "cannot retry run \(runId): node '\(counts[1].string ?? "?")' must run again "
                + "but its job is gone and the run record has no copy of it (the run was submitted by an older version); "
                + "submit the flow again")
        }
        guard counts.count == 3, let rerun = counts[0].int, let kept = counts[1].int, let active = counts[2].int else {
            throw QueueError(.unexpectedScriptResult, "retryFlowRun returned \(reply)")
        }
        return FlowRunRetry(rerun: Int(rerun), kept: Int(kept), active: Int(active))
    }

    /// Waits until a run settles (nothing of it can run any more) and returns it: completed, failed or cancelled.
    ///
    /// It follows the run-finished events (``runEventsQueue``) and reads the run when one is about it, and at
    /// least every two seconds. A run whose last node was finished by a worker that records no outcome (Python
    /// or Node BullMQ) is settled on its behalf by the same script the workers use, so the answer never rests
    /// on one read caught between two states.
    ///
    /// - Parameters:
    ///   - runId: the run to wait for.
    ///   - timeout: give up after this long (``FlowRunWaitTimeout`` carries the run as last read); `nil` waits
    ///     until the calling task is cancelled.
    ///   - detail: how much of each job the returned run carries (while waiting, only summaries are read).
    /// - Throws: ``QueueError`` `runNotFound` (also when the run disappears); ``FlowRunWaitTimeout``;
    ///   `CancellationError`.
    public func waitForRun(_ runId: String, timeout: Duration? = nil, jobs detail: FlowRunJobDetail = .full) async throws -> FlowRun {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let newest = try await client.send(RedisCommand("XREVRANGE", .string(runEventsKey), "+", "-", "COUNT", 1))
        var lastID = newest.array?.first?.array?.first?.string ?? "0-0"
        var settleTried = false
        var drops = 0
        while true {
            try Task.checkCancellation()
            do {
                guard let run = try await getFlowRun(runId, jobs: .summary) else {
                    throw QueueError(.runNotFound, "no flow run '\(runId)' under prefix '\(prefix)'")
                }
                if run.finishedAt != nil {
                    guard detail == .full else { return run }
                    // A settled run no longer changes (until it is retried): read it again with every field.
                    return try await getFlowRun(runId) ?? run
                }
                if run.status != .running, !settleTried {
                    // Nothing seems able to run: let the settling script decide, atomically.
                    settleTried = true
                    _ = try await client.run(QueueScripts.settleFlowRun.script, keys: [],
                                             arguments: [.string(runKey(runId)), .integer(EpochClock.milliseconds())],
                                             routingKey: runKey(runId))
                    continue
                }
                settleTried = false
                var wait = Duration.seconds(2)
                if let deadline {
                    let left = deadline - ContinuousClock.now
                    if left <= .zero { throw FlowRunWaitTimeout(run: run) }
                    wait = min(wait, left)
                }
                let reply = try await client.send(RedisCommand(
                    "XREAD", "COUNT", 100, "BLOCK", .integer(max(wait.milliseconds, 1)), "STREAMS",
                    .string(runEventsKey), .string(lastID)))
                for entry in reply.array?.first?.array?.dropFirst().first?.array ?? [] {
                    if let id = entry.array?.first?.string { lastID = id }
                }
            } catch let error as RedisClientError where error.code == .connectionClosed {
                // A connection dropped under a read (a failover, a restart): reading again is harmless, and the
                // client reconnects or finds the new master. The settling script may run twice; it is idempotent.
                // A server that keeps dropping connections still ends the wait.
                drops += 1
                if drops >= 10 { throw error }
                if let deadline, ContinuousClock.now >= deadline { throw error }
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            drops = 0
        }
    }
}
