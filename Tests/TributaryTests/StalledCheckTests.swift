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

    @Test("a job scheduler's iteration that stalls too often goes back to wait without a deferred failure, as in BullMQ")
    func schedulerIterationIsNotFailed() async throws {
        try await withQueue("stall") { queue, client, _ in
            let iteration = try #require(try await queue.upsertJobScheduler("s", repeat: .cron("0 0 1 1 *")))
            let plain = try await queue.add("plain")
            // Both taken by a worker that died, after stalling once already (max stalled count 1).
            for id in [iteration.id, plain.id] {
                try await client.send(RedisCommand("ZREM", .string(queue.keys.key(.delayed)), .string(id)))
                try await client.send(RedisCommand("LREM", .string(queue.keys.key(.wait)), 0, .string(id)))
                try await client.send(RedisCommand("RPUSH", .string(queue.keys.key(.active)), .string(id)))
                try await client.send(RedisCommand("HSET", .string(queue.keys.job(id)), "stc", "1"))
            }
            _ = try await check(queue, client)
            #expect(Set(try await check(queue, client)) == [iteration.id, plain.id])
            #expect(try await hashFields(client, queue.keys.job(plain.id))["defa"] == "job stalled more than allowable limit")
            #expect(try await hashFields(client, queue.keys.job(iteration.id))["defa"] == nil)
            #expect(try await queue.getState(iteration.id) == .waiting)
        }
    }
}
