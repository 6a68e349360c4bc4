extension RedisClient {
    /// Runs commands atomically in one MULTI/EXEC, written as one uninterrupted pipeline, and returns the reply of
    /// each command.
    ///
    /// Every reply is checked: if a command is rejected while queuing (EXECABORT, nothing runs) or fails inside
    /// EXEC (Redis has no rollback: the other commands did run), this throws ``RedisClientError`` with code
    /// `transactionFailed`, naming the command's position and the server's message.
    ///
    /// - Parameters:
    ///   - commands: the commands, run in order.
    ///   - scripts: scripts that commands in the transaction run with EVALSHA. Each is loaded with SCRIPT LOAD
    ///     inside the same MULTI, before the commands, so a server that lost its script cache (restart, SCRIPT
    ///     FLUSH) cannot make an EVALSHA fail halfway through the transaction.
    @discardableResult
    public func transaction(_ commands: [RedisCommand], scripts: [RedisScript] = []) async throws -> [RESPValue] {
        let loads = Set(scripts).sorted { $0.sha1 < $1.sha1 }.map(\.loadCommand)
        let body = loads + commands
        let replies = try await pipelineOnOneServer([RedisCommand("MULTI")] + body + [RedisCommand("EXEC")])
        guard replies.count == body.count + 2 else {
            throw RedisClientError(.unexpectedReply, "MULTI/EXEC returned \(replies.count) replies for \(body.count + 2) commands")
        }
        if case .error(let error) = replies[0] {
            throw RedisClientError(.transactionFailed, "MULTI failed: \(error.message)", underlying: error)
        }
        for (index, reply) in replies[1...body.count].enumerated() {
            if case .error(let error) = reply {
                throw RedisClientError(
                    .transactionFailed,
                    "Transaction aborted, nothing ran: command \(index + 1) of \(body.count) (\(body[index].name)) was rejected: \(error.message)",
                    underlying: error)
            }
        }
        let results: [RESPValue]
        switch replies[body.count + 1] {
        case .array(let elements) where elements.count == body.count:
            results = elements
        case .null:
            throw RedisClientError(.transactionFailed, "Transaction aborted, nothing ran: a WATCHed key changed")
        case .error(let error):
            throw RedisClientError(.transactionFailed, "Transaction aborted, nothing ran: \(error.message)", underlying: error)
        case let other:
            throw RedisClientError(.unexpectedReply, "EXEC returned \(other), expected \(body.count) replies")
        }
        for (index, result) in results.enumerated() {
            if case .error(let error) = result {
                throw RedisClientError(
                    .transactionFailed,
                    "Command \(index + 1) of \(body.count) (\(body[index].name)) failed inside EXEC; the other commands ran: \(error.message)",
                    underlying: error)
            }
        }
        return Array(results[loads.count...])
    }
}
