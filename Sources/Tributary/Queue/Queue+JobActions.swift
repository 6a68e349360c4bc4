/// Actions on one job, by id: retry, promote, remove, update data or progress, logs, priority and delay. They
/// are methods of the job's ``Queue`` (a ``Job`` is a snapshot and holds no connection):
///
/// ```swift
/// try await queue.retryJob(job.id)
/// try await queue.updateJobProgress(job.id, ["done": 40, "of": 100])
/// try await queue.addJobLog(job.id, "fetched 40 rows")
/// ```
///
/// Each action is one atomic script that stores what BullMQ stores and emits BullMQ's event.
extension Queue {
    /// Runs a single-job script and turns its negative statuses into errors naming the job and what is wrong.
    ///
    /// - Parameters:
    ///   - action: what is being done, for messages ("retry", "promote").
    ///   - expected: the state the job must be in, for a -3 reply.
    private func runJobAction(_ script: QueueScript, id: String, action: String, expected: JobState? = nil,
                              _ arguments: [RedisArgument]) async throws -> RESPValue {
        let reply = try await runScript(script, [.string(keys.jobKeyPrefix), .string(id)] + arguments)
        guard case .integer(let status) = reply, status < 0 else { return reply }
        switch status {
        case -1:
            throw QueueError(.jobNotFound, "cannot \(action) job \(id) of queue '\(name)': it does not exist")
        case -2:
            throw QueueError(.jobLocked, "cannot \(action) job \(id) of queue '\(name)': a worker holds its lock "
                + "(it is being processed)")
        case -3:
            let actual = (try? await getState(id)) ?? .unknown
            let expectation = expected.map { ", not \($0.rawValue)" } ?? ""
            throw QueueError(.jobNotInState, "cannot \(action) job \(id) of queue '\(name)': it is \(actual.rawValue)\(expectation)")
        case -10:
            throw QueueError(.inputsIncomplete, "cannot \(action) job \(id) of queue '\(name)': a job it needs failed and "
                + "was not retried, so it would run without that input; retry that job first (or the whole run: "
                + "`tributary flow retry RUN`)")
        default:
            throw QueueError(.unexpectedScriptResult, "\(script.name) returned \(status) for job \(id) of queue '\(name)'")
        }
    }

    /// Moves a failed (or completed) job back to wait, or to the prioritized set if it has a priority; its `lifo`
    /// option decides which end of the wait list. Clears `finishedOn`, `processedOn` and `failedReason` (or
    /// `returnvalue`), as BullMQ's `job.retry()` does. Emits `waiting` (prev = failed or completed).
    ///
    /// - Parameters:
    ///   - id: the job's id.
    ///   - state: `.failed` (the default) or `.completed`: the set the job must be in.
    ///   - resetAttemptsMade: also reset `attemptsMade` (`atm`), so the job gets all its attempts again.
    ///   - resetAttemptsStarted: also reset `attemptsStarted` (`ats`).
    /// A job whose children (a flow node's inputs) are not all complete never runs with part of them: with
    /// children pending it goes to waiting-children instead (event `waiting-children`), and moves on when they
    /// finish; with a child that failed under the `fail` policy and was not retried, the retry is refused.
    /// A node of a flow run has its recorded outcome taken back, and its run is running again.
    ///
    /// - Throws: ``QueueError`` `jobNotFound`; `jobNotInState` when the job is not in `state`; `invalidOption` for
    ///   another state; `inputsIncomplete` when a child failed and was not retried.
    public func retryJob(_ id: String, state: JobState = .failed, resetAttemptsMade: Bool = false,
                         resetAttemptsStarted: Bool = false) async throws {
        guard state == .failed || state == .completed else {
            throw QueueError(.invalidOption, "retryJob retries failed or completed jobs, not \(state.rawValue) ones")
        }
        _ = try await runJobAction(QueueScripts.reprocessJob, id: id, action: "retry", expected: state, [
            .string(state.rawValue), .string(resetAttemptsMade ? "1" : "0"), .string(resetAttemptsStarted ? "1" : "0"),
        ])
    }

    /// Makes a delayed job ready now: it goes to wait (or prioritized) with delay 0. Emits `waiting`
    /// (prev=delayed).
    ///
    /// - Throws: ``QueueError`` `jobNotFound`; `jobNotInState` when the job is not delayed.
    public func promoteJob(_ id: String) async throws {
        _ = try await runJobAction(QueueScripts.promoteJob, id: id, action: "promote", expected: .delayed, [])
    }

    /// Deletes a job in any state but active-and-locked: its id leaves its list or set, and its hash, logs and
    /// child bookkeeping are deleted. If it was its parent's last pending child, the parent moves to wait.
    /// Emits `removed` (prev = the state it was in). Its own children are not removed.
    ///
    /// - Returns: `true` if the job existed, `false` if there was nothing to remove.
    /// - Throws: ``QueueError`` `jobLocked` while a worker processes the job.
    @discardableResult
    public func removeJob(_ id: String) async throws -> Bool {
        let reply = try await runJobAction(QueueScripts.removeJob, id: id, action: "remove", [])
        return reply.int == 1
    }

    /// Replaces a job's data (`data` field), whatever its state; a worker already running it keeps the old copy.
    ///
    /// - Throws: ``QueueError`` `jobNotFound`.
    public func updateJobData(_ id: String, data: JSONValue) async throws {
        _ = try await runJobAction(QueueScripts.updateData, id: id, action: "update the data of", [.string(data.serialized())])
    }

    /// Stores a job's progress (`progress` field, any JSON value: a percentage, an object…) and emits `progress`
    /// with the value as `data`, which `QueueEvents` listeners in any language receive.
    ///
    /// - Throws: ``QueueError`` `jobNotFound`.
    public func updateJobProgress(_ id: String, _ progress: JSONValue) async throws {
        _ = try await runJobAction(QueueScripts.updateProgress, id: id, action: "update the progress of",
                                   [.string(progress.serialized())])
    }

    /// Appends a line to a job's log (the `<job key>:logs` list).
    ///
    /// - Parameters:
    ///   - id: the job's id.
    ///   - line: the text to append.
    ///   - keepLogs: keep only the newest this many lines; 0 keeps all.
    /// - Returns: how many lines the log holds now.
    /// - Throws: ``QueueError`` `jobNotFound`; `invalidOption` for a negative `keepLogs`.
    @discardableResult
    public func addJobLog(_ id: String, _ line: String, keepLogs: Int = 0) async throws -> Int {
        guard keepLogs >= 0 else { throw QueueError(.invalidOption, "keepLogs must not be negative (got \(keepLogs))") }
        let reply = try await runJobAction(QueueScripts.addLog, id: id, action: "log to",
                                           [.string(line), .integer(Int64(keepLogs))])
        return reply.int ?? 0
    }

    /// A range of a job's log lines and the total number of lines. `start` and `end` are zero-based and inclusive
    /// (-1 is the last); counted from the oldest line, or from the newest when `ascending` is false (the lines are
    /// then newest first). A job without logs, or no job at all, has none.
    public func getJobLogs(_ id: String, start: Int = 0, end: Int = -1,
                           ascending: Bool = true) async throws -> (logs: [String], count: Int) {
        let key = RedisArgument.string(keys.job(id) + ":logs")
        let range = ascending
            ? RedisCommand("LRANGE", key, .integer(Int64(start)), .integer(Int64(end)))
            : RedisCommand("LRANGE", key, .integer(Int64(-(end + 1))), .integer(Int64(-(start + 1))))
        let replies = try await client.transaction([range, RedisCommand("LLEN", key)])
        var logs = (replies[0].array ?? []).compactMap(\.string)
        if !ascending { logs.reverse() }
        return (logs, replies[1].int ?? 0)
    }

    /// Sets a job's priority (`priority` field). A job that is waiting or prioritized moves at once: priority 0
    /// to the wait list (with `lifo`, to the end taken next), a positive priority to the prioritized set (with
    /// `lifo`, ahead of the jobs of equal priority). A job in another state keeps its place and runs with the
    /// new priority when it next becomes ready. No event, as in BullMQ.
    ///
    /// - Throws: ``QueueError`` `jobNotFound`; `invalidOption` for a priority outside 0...``JobOptions/maximumPriority`` (2,097,151).
    public func changeJobPriority(_ id: String, priority: Int, lifo: Bool = false) async throws {
        guard (0...JobOptions.maximumPriority).contains(priority) else {
            throw QueueError(.invalidOption, "priority must be between 0 and \(JobOptions.maximumPriority) (got \(priority))")
        }
        _ = try await runJobAction(QueueScripts.changePriority, id: id, action: "change the priority of", [
            .integer(Int64(priority)), .string(lifo ? "1" : "0"),
        ])
    }

    /// Reschedules a delayed job to run `delay` from now (its `delay` field becomes `delay`). Emits `delayed`
    /// with the new due time.
    ///
    /// Moving an *active* job to delayed needs the worker's lock token; that is the worker's business (a failed
    /// attempt with a backoff), not the queue's.
    ///
    /// - Throws: ``QueueError`` `jobNotFound`; `jobNotInState` when the job is not delayed; `invalidOption` for a
    ///   negative delay.
    public func changeJobDelay(_ id: String, delay: Duration) async throws {
        guard delay >= .zero else { throw QueueError(.invalidOption, "delay must not be negative (got \(delay))") }
        _ = try await runJobAction(QueueScripts.changeDelay, id: id, action: "change the delay of", expected: .delayed, [
            .integer(EpochClock.milliseconds()), .integer(delay.milliseconds),
        ])
    }
}
