/// Jobs to store together, atomically: one MULTI/EXEC of `addJobs.lua` calls, each storing up to `callSize`
/// consecutive jobs of one queue. Used by ``Queue/addBulk(_:)`` and flow transactions (``FlowProducer``).
///
/// Jobs are stored in the order appended, so a flow parent appended before its children exists when they are
/// stored. Plain commands may be appended between jobs; they run in their place.
struct JobBatch {
    private enum Entry {
        /// addJob.lua's ARGV without the leading job key prefix (14 values).
        case add(QueueKeys, ArraySlice<RedisArgument>)
        case command(RedisCommand)
    }

    private var entries: [Entry] = []

    /// The number of entries appended so far (the index the next one gets).
    var count: Int { entries.count }

    /// Appends one job given by its `addJob.lua` ARGV (see ``Queue/prepareAdd(_:keys:timestamp:jobId:parents:waitsForChildren:extraFields:guardKey:)``).
    mutating func append(_ keys: QueueKeys, addArguments: [RedisArgument]) {
        precondition(addArguments.count == 15, "addJob.lua takes 15 arguments")
        entries.append(.add(keys, addArguments.dropFirst()))
    }

    /// Appends a plain command, run between the jobs appended before and after it.
    mutating func append(_ command: RedisCommand) {
        entries.append(.command(command))
    }

    /// The commands to send, each with the number of jobs its reply covers (`nil` for a plain command).
    func commands(callSize: Int = 1000) -> [(command: RedisCommand, jobs: Int?)] {
        var commands: [(command: RedisCommand, jobs: Int?)] = []
        var start = 0
        while start < entries.count {
            guard case .add(let keys, _) = entries[start] else {
                if case .command(let command) = entries[start] { commands.append((command, nil)) }
                start += 1
                continue
            }
            var end = start + 1
            while end < entries.count, end - start < callSize, case .add(let next, _) = entries[end], next == keys { end += 1 }
            var arguments: [RedisArgument] = []
            arguments.reserveCapacity(2 + (end - start) * 14)
            arguments.append(.string(keys.jobKeyPrefix))
            arguments.append(.integer(Int64(end - start)))
            for entry in entries[start..<end] {
                if case .add(_, let values) = entry { arguments.append(contentsOf: values) }
            }
            commands.append((QueueScripts.addJobs.command(keys, arguments: arguments), end - start))
            start = end
        }
        return commands
    }

    /// One reply per entry, in order, from the replies of ``commands(callSize:)``: a job's id (or addJob's negative
    /// status), or a plain command's reply.
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

    /// Stores every entry in one transaction and returns each one's reply, in order.
    ///
    /// - Throws: ``RedisClientError`` `transactionFailed` if Redis refused part of the transaction.
    func store(on client: RedisClient, callSize: Int = 1000) async throws -> [RESPValue] {
        guard !entries.isEmpty else { return [] }
        let planned = commands(callSize: callSize)
        let replies = try await client.transaction(planned.map(\.command), scripts: [QueueScripts.addJobs.script])
        return try Self.entryReplies(replies, jobs: planned.map(\.jobs))
    }
}
