/// Jobs to store together, atomically: one `addJobs.lua` call when they fit in one, otherwise one MULTI/EXEC of
/// calls, each storing up to `callSize` consecutive jobs of one queue. Every add goes through here:
/// ``Queue/add(_:data:options:)``, ``Queue/addBulk(_:)``, ``Job/addChildren(_:queue:)`` and flow transactions
/// (``FlowProducer``).
///
/// Jobs are stored in the order appended, so a flow parent appended before its children exists when they are
/// stored. Plain commands may be appended between jobs; they run in their place.
struct JobBatch {
    private enum Entry {
        /// One job's 15 values of addJobs.lua's ARGV.
        case add(QueueKeys, ArraySlice<RedisArgument>)
        case command(RedisCommand)
    }

    private var entries: [Entry] = []

    /// The number of entries appended so far (the index the next one gets).
    var count: Int { entries.count }

    /// Appends one job given by its add arguments: the job key prefix and its 15 values (see
    /// ``Queue/prepareAdd(_:keys:timestamp:jobId:parents:waitsForChildren:extraFields:guardKey:)``).
    mutating func append(_ keys: QueueKeys, addArguments: [RedisArgument]) {
        precondition(addArguments.count == 16, "an add takes the job key prefix and 15 values")
        entries.append(.add(keys, addArguments.dropFirst()))
    }

    /// Appends a plain command, run between the jobs appended before and after it.
    mutating func append(_ command: RedisCommand) {
        entries.append(.command(command))
    }

    /// One call of addJobs.lua, or a plain command.
    private enum Call {
        case add(QueueKeys, arguments: [RedisArgument], jobs: Int)
        case command(RedisCommand)
    }

    /// The entries grouped into calls: consecutive jobs of one queue, up to `callSize` per call.
    private func calls(callSize: Int) -> [Call] {
        var calls: [Call] = []
        var start = 0
        while start < entries.count {
            guard case .add(let keys, _) = entries[start] else {
                if case .command(let command) = entries[start] { calls.append(.command(command)) }
                start += 1
                continue
            }
            var end = start + 1
            while end < entries.count, end - start < callSize, case .add(let next, _) = entries[end], next == keys { end += 1 }
            var arguments: [RedisArgument] = []
            arguments.reserveCapacity(2 + (end - start) * 15)
            arguments.append(.string(keys.jobKeyPrefix))
            arguments.append(.integer(Int64(end - start)))
            for entry in entries[start..<end] {
                if case .add(_, let values) = entry { arguments.append(contentsOf: values) }
            }
            calls.append(.add(keys, arguments: arguments, jobs: end - start))
            start = end
        }
        return calls
    }

    /// The commands to send, each with the number of jobs its reply covers (`nil` for a plain command).
    func commands(callSize: Int = 1000) -> [(command: RedisCommand, jobs: Int?)] {
        calls(callSize: callSize).map { call in
            switch call {
            case .add(let keys, let arguments, let jobs): (QueueScripts.addJobs.command(keys, arguments: arguments), jobs)
            case .command(let command): (command, nil)
            }
        }
    }

    /// One reply per entry, in order, from the replies of ``commands(callSize:)``: a job's id (or a negative
    /// status, see addJobs.lua), or a plain command's reply.
    static func entryReplies(_ replies: some Collection<RESPValue>, jobs: [Int?]) throws -> [RESPValue] {
        var results: [RESPValue] = []
        for (reply, count) in zip(replies, jobs) {
            guard let count else {
                results.append(reply)
                continue
            }
            guard case .array(let items) = reply, items.count == count else {
                throw QueueError(.unexpectedScriptResult, "addJobs returned \(reply) for \(count) jobs")
            }
            results.append(contentsOf: items)
        }
        return results
    }

    /// Stores every entry atomically and returns each one's reply, in order: with one script call when that call
    /// covers every entry (a script runs atomically), otherwise in one transaction.
    ///
    /// - Throws: ``RedisClientError`` `transactionFailed` if Redis refused part of the transaction.
    func store(on client: RedisClient, callSize: Int = 1000) async throws -> [RESPValue] {
        guard !entries.isEmpty else { return [] }
        let calls = calls(callSize: callSize)
        if calls.count == 1, case .add(let keys, let arguments, let jobs) = calls[0] {
            let script = QueueScripts.addJobs
            let reply = try await client.run(script.script, keys: script.keys(for: keys), arguments: arguments)
            return try Self.entryReplies([reply], jobs: [jobs])
        }
        let planned = commands(callSize: callSize)
        let replies = try await client.transaction(planned.map(\.command), scripts: [QueueScripts.addJobs.script])
        return try Self.entryReplies(replies, jobs: planned.map(\.jobs))
    }
}
