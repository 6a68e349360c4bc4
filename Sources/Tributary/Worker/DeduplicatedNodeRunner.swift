/// What the worker runs instead of a handler for a deduplicated node of a flow run: a node whose deduplication id
/// another job held when the run was submitted (field `flowDedupHolder`, written by `addJobs.lua`). The node takes
/// the holder's outcome (docs/flow-file-format.md, "Deduplicated nodes"):
///
/// - the holder completed: the node completes with the holder's return value, so its dependents receive it as if
///   the node had run;
/// - the holder failed for good: the node fails, for good, with a reason naming the holder (the run's failure
///   policy then applies as for any failed node);
/// - the holder is gone (removed, or trimmed by its retention before its outcome was read): the node fails, naming
///   it.
///
/// Until the holder finishes, the node does not keep a worker's slot: the worker looks at the holder for up to
/// ``slotWait`` (every 100 ms at first), then puts the node's job back in the delayed set for ``recheckDelay``
/// (no attempt counted, as ``Job/moveToDelayed(by:)``) and takes it again then, so a node never starves its own
/// holder of slots. The holder may be any job of the queue: another run's node, or a plain job added by any client
/// (Tributary, Node or Python BullMQ).
enum DeduplicatedNodeRunner {
    /// The first pause between two looks at the holder while the node holds a slot, doubled each time.
    static let firstPause: Duration = .milliseconds(100)
    /// How long the node holds a worker's slot waiting for the holder before going back to the delayed set.
    static let slotWait: Duration = .seconds(2)
    /// How long the node waits in the delayed set before the holder is looked at again.
    static let recheckDelay: Duration = .seconds(1)

    /// Waits for the holder `holder` (a job id of the node's queue) to finish and returns its return value.
    ///
    /// - Throws: ``UnrecoverableError`` when the holder failed or is gone; ``DelayedError`` when the holder has not
    ///   finished within ``slotWait`` (the job was moved to delayed); `CancellationError` when the worker closes.
    static func run(_ job: Job, holder: String) async throws -> JSONValue {
        let client = try job.runningHandle("deduplicated node").queue.client
        let queue = job.queue
        let node = job.flowNodeId ?? job.id
        let id = job.options.deduplication.map { " (deduplication id '\($0.id)')" } ?? ""
        var pause = firstPause
        let deadline = ContinuousClock.now + slotWait
        while true {
            let replies = try await client.pipeline([
                RedisCommand("ZSCORE", .string(queue.key(.completed)), .string(holder)),
                RedisCommand("ZSCORE", .string(queue.key(.failed)), .string(holder)),
                RedisCommand("HMGET", .string(queue.job(holder)), "name", "returnvalue", "failedReason"),
            ])
            let fields = replies[2].array ?? []
            let name = fields.first?.string
            if replies[0].string != nil, name != nil {
                let text = fields.count > 1 ? fields[1].string ?? "null" : "null"
                return (try? JSONValue.parse(text)) ?? .string(text)
            }
            if replies[1].string != nil, name != nil {
                let reason = fields.count > 2 ? fields[2].string ?? "" : ""
                throw UnrecoverableError("deduplicated node '\(node)' takes the outcome of job \(holder)\(id), "
                    + "which failed: \(reason)")
            }
            if name == nil {
                throw UnrecoverableError("deduplicated node '\(node)' takes the outcome of job \(holder)\(id), which "
                    + "no longer exists: it was removed, or trimmed by its retention, before its outcome was read")
            }
            if ContinuousClock.now + pause > deadline { try await job.moveToDelayed(by: recheckDelay) }
            try await Task.sleep(for: pause)
            pause = pause * 2
        }
    }
}
