import Testing
@testable import Tributary

/// The stalled check (`moveStalledJobsToWait.lua`) with more active jobs than Lua can unpack at once.
@Suite("Stalled check")
struct StalledCheckTests {
    /// Runs the check once as a worker does; the once-per-interval guard is cleared first.
    private func check(_ queue: Queue, _ client: RedisClient) async throws -> [String] {
        try await client.send(RedisCommand("DEL", .string(queue.keys.key(.stalledCheck))))
        let reply = try await client.run(
            QueueScripts.moveStalledJobsToWait.script, keys: QueueScripts.moveStalledJobsToWait.keys(for: queue.keys),
            arguments: [.string(queue.keys.jobKeyPrefix), .integer(EpochClock.milliseconds()), 1, 30_000])
        return reply.array?.compactMap(\.string) ?? []
    }

    @Test("9,000 active jobs without locks are all marked, then all found stalled and moved back to wait")
    func manyActiveJobs() async throws {
        try await withQueue("stall") { queue, client, _ in
            let count = 9_000
            // Jobs a dead worker left behind: active, unlocked. Written by one script to keep the test quick.
            try await client.send(RedisCommand("EVAL", """
                for i = 1, tonumber(ARGV[1]) do
                  redis.call("HSET", KEYS[1] .. i, "name", "n", "data", "{}", "opts", "{}", "timestamp", "1")
                  redis.call("RPUSH", KEYS[2], tostring(i))
                end
                return 1
                """, "2", .string(queue.keys.jobKeyPrefix), .string(queue.keys.key(.active)), .string(String(count))))

            #expect(try await check(queue, client).isEmpty, "the first check only marks")
            #expect(try await client.send(RedisCommand("SCARD", .string(queue.keys.key(.stalled)))) == .integer(Int64(count)))

            let stalled = try await check(queue, client)
            #expect(stalled.count == count)
            let counts = try await queue.getJobCounts()
            #expect(counts.active == 0 && counts.waiting == count, "\(counts)")
            #expect(try await hashFields(client, queue.keys.job("4321"))["stc"] == "1")
        }
    }
}
