@testable import Tributary

extension RedisClient {
    /// Runs addJobs.lua for one job given by its add arguments (job key prefix and 15 values) and returns that
    /// job's result: its id, or a negative status.
    func addOne(_ keys: QueueKeys, arguments: [RedisArgument]) async throws -> RESPValue {
        let script = QueueScripts.addJobs
        let reply = try await run(script.script, keys: script.keys(for: keys),
                                  arguments: [arguments[0], .integer(1)] + arguments.dropFirst())
        return reply.array?.first ?? reply
    }
}
