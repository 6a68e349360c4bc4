import OrderedCollections

/// One flow's adds as a single MULTI/EXEC that stores every node or none.
///
/// Redis runs the rest of a transaction when one command fails at run time, so the transaction opens with
/// `checkFlow.lua`, which checks everything that could make an add fail (taken job ids, keys of the wrong type, an
/// existing run record) and only then sets a guard key. Every add checks the guard first, and the last command
/// deletes it: a refused flow writes nothing but the (missing) guard.
struct FlowTransaction {
    /// What the transaction did.
    enum Outcome {
        /// Every command ran; the replies of the added commands, in the order they were added.
        case stored([RESPValue])
        /// The run record exists already (idempotent resubmission); nothing was stored.
        case runExists
    }

    let prefix: String
    let guardKey: String
    /// The run record of a flow run: written by the check, which first makes sure it does not exist.
    var run: (key: String, fields: JSONObject, indexKey: String, createdAt: Int64)?
    /// The adds (stored with addJobs.lua, up to 1000 consecutive jobs of a queue per call) and plain commands.
    private var batch = JobBatch()
    private var queues: OrderedSet<String> = []
    private var freshJobKeys: [String] = []

    init(prefix: String) {
        self.prefix = prefix
        self.guardKey = "\(prefix):__flows__:guard:\(RandomID.hex32())"
    }

    /// Appends a node's `addJob` command and returns its position among the added commands.
    /// - Parameter fresh: the job id was chosen by Tributary, so its key must be free.
    mutating func addJob(_ keys: QueueKeys, arguments: [RedisArgument], jobKey: String, fresh: Bool) -> Int {
        queues.append(keys.qualifiedName)
        if fresh { freshJobKeys.append(jobKey) }
        batch.append(keys, addArguments: arguments)
        return batch.count - 1
    }

    /// Appends a plain command (for example the run record's writes).
    mutating func append(_ command: RedisCommand) -> Int {
        batch.append(command)
        return batch.count - 1
    }

    /// Runs the transaction.
    ///
    /// - Throws: ``QueueError`` `flowRejected` naming the key at fault (nothing stored); `unexpectedScriptResult`
    ///   when an add reports a status the check should have caught; ``RedisClientError`` when Redis refuses the
    ///   transaction itself.
    func run(on client: RedisClient) async throws -> Outcome {
        let flow = run?.fields["flow"]?.stringValue ?? "tree"
        try ClusterSlots.checkFlow(flow, prefix: prefix, queues: queues.map { String($0.dropFirst(prefix.count + 1)) },
                                   on: client)
        let lifetimeMs: Int64 = 60_000
        let check = QueueScripts.checkFlow.script.command(keys: [], arguments: [
            .string(guardKey), .integer(lifetimeMs), .string(run?.key ?? ""),
            .string(run.map { JSONValue.object($0.fields).serialized() } ?? ""), .string(run?.indexKey ?? ""),
            .integer(run?.createdAt ?? 0), .integer(Int64(queues.count)),
        ] + queues.map { .string($0) } + freshJobKeys.map { .string($0) })
        let planned = batch.commands()
        let all = [check] + planned.map(\.command) + [RedisCommand("DEL", .string(guardKey))]
        let replies = try await client.transaction(all, scripts: [QueueScripts.checkFlow.script, QueueScripts.addJobs.script])
        let verdict = replies[0].array ?? []
        switch verdict.first?.int {
        case 1:
            return .stored(try JobBatch.entryReplies(replies[1..<(replies.count - 1)], jobs: planned.map(\.jobs)))
        case -10:
            return .runExists
        case -11:
            throw QueueError(.flowRejected, "nothing was stored: job \(verdict[1].string ?? "?") exists already")
        case -12:
            throw QueueError(.flowRejected, "nothing was stored: key \(verdict[1].string ?? "?") holds a \(verdict[2].string ?? "?"), not what a queue keeps there")
        default:
            throw QueueError(.unexpectedScriptResult, "checkFlow returned \(replies[0])")
        }
    }
}
